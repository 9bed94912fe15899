import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './fixtures.js';

/** RegistryTokenAuth puts a test registry in token-auth mode (`auth: token`). */
export interface RegistryTokenAuth {
  /** the token server's URL the registry's challenge points clients to. */
  realm: string;
  /** the `service` the tokens are for (their audience). */
  service: string;
  /** the issuer the tokens name. */
  issuer: string;
  /** a PEM file of the certificates whose keys may sign tokens. */
  rootCertBundle: string;
}

/** StartRegistryOptions shape {@link startRegistry}. */
export interface StartRegistryOptions {
  /** token auth; anonymous read-write access when absent. */
  token?: RegistryTokenAuth;
  /** the parent of the registry's own directory (the system temp dir by default). */
  parent?: string;
}

/** TestRegistry is a running Debian `docker-registry` on 127.0.0.1 with its data in a temp dir. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`. */
  addr: string;
  /** the registry's directory (config and data), removed by `stop`. */
  dir: string;
  /** the registry process's id. */
  pid: number;
  stop(): Promise<void>;
}

function configYaml(dir: string, port: number, o: StartRegistryOptions): string {
  const lines = [
    'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`,
  ];
  if (o.token) {
    const t = o.token;
    lines.push('auth:', '  token:', `    realm: ${JSON.stringify(t.realm)}`, `    service: ${JSON.stringify(t.service)}`,
      `    issuer: ${JSON.stringify(t.issuer)}`, `    rootcertbundle: ${JSON.stringify(t.rootCertBundle)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * startRegistry starts `docker-registry serve` on a free loopback port with a config of its
 * own, and resolves once `/v2/` answers (401 counts as up in token mode). The process and its
 * directory go with `stop()`.
 */
export async function startRegistry(o: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(o.parent ?? tmpdir(), 'ctrd-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(config, configYaml(dir, port, o));
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const up = (status: number): boolean => status === 200 || (o.token !== undefined && status === 401);
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => up(r.status), () => false);
    if (ok) return { addr: `127.0.0.1:${port}`, dir, pid: child.pid!, stop };
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  await stop();
  throw new Error(`registry did not start: ${stderr}`);
}
