import { readFile, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { InvalidArgumentError } from '@ctrd/errdefs';
import { ALL_CAPABILITIES, isLocalhost, type HostCapability, type RegistryHost, type RegistryHosts } from '@ctrd/remotes';

/** HostsConfigOptions configure {@link configureHosts}. */
export interface HostsConfigOptions {
  /** hostsDir is a directory of per-registry directories holding `hosts.toml` (containerd's `config_path`). */
  hostsDir?: string;
  /** plainHttp makes the upstream use `http` for every registry, or for those the function picks. */
  plainHttp?: boolean | ((registry: string) => boolean);
}

/** HostEntry is one parsed `hosts.toml` section, before its files are read. */
export interface HostEntry {
  scheme?: 'http' | 'https';
  host?: string;
  path: string;
  capabilities: HostCapability[];
  ca?: string[];
  client?: Array<[string, string]>;
  skipVerify?: boolean;
  header?: Record<string, string[]>;
}

/**
 * hostDirectoryNames lists the directories under a hosts dir searched for a registry, in order:
 * `host_port_` (a colon is not portable in names), the name as is, then `_default`.
 */
export function hostDirectoryNames(registry: string): string[] {
  const i = registry.lastIndexOf(':');
  const names = i > 0 ? [`${registry.slice(0, i)}_${registry.slice(i + 1)}_`, registry] : [registry];
  return [...names, '_default'];
}

/**
 * parseHostsToml parses a `hosts.toml` as containerd does: the `[host."…"]` tables in file order
 * (mirrors), then the top-level `server` (the upstream; unset means the registry's default).
 * Relative `ca` and `client` paths are taken from `baseDir`. Files are not read here.
 *
 * @throws InvalidArgumentError for malformed TOML or a bad value, naming the key.
 */
export function parseHostsToml(text: string, baseDir: string): HostEntry[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (cause) {
    throw new InvalidArgumentError(`failed to parse hosts.toml: ${(cause as Error).message}`, { cause });
  }
  const out: HostEntry[] = [];
  const hostTables = doc.host ?? {};
  if (typeof hostTables !== 'object' || Array.isArray(hostTables)) throw new InvalidArgumentError('invalid `host` table in hosts.toml');
  for (const [server, cfg] of Object.entries(hostTables as Record<string, unknown>)) {
    out.push(parseEntry(server, cfg as Record<string, unknown>, baseDir));
  }
  const server = doc.server;
  if (server !== undefined && typeof server !== 'string') throw new InvalidArgumentError('invalid type for "server" in hosts.toml');
  out.push(parseEntry(server ?? '', doc, baseDir));
  return out;
}

function strings(v: unknown, key: string): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new InvalidArgumentError(`invalid type for "${key}" in hosts.toml`);
}

function parseEntry(server: string, cfg: Record<string, unknown>, baseDir: string): HostEntry {
  const entry: HostEntry = { path: '/v2', capabilities: [...ALL_CAPABILITIES] };
  const overridePath = cfg.override_path === true;
  if (server) {
    if (server.includes('://') && !/^https?:\/\//.test(server)) throw new InvalidArgumentError(`invalid scheme in server ${JSON.stringify(server)}`);
    let u: URL;
    try {
      u = new URL(server.startsWith('http') ? server : `https://${server}`);
    } catch (cause) {
      throw new InvalidArgumentError(`unable to parse server ${JSON.stringify(server)}`, { cause });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError(`invalid scheme in server ${JSON.stringify(server)}`);
    entry.scheme = u.protocol === 'http:' ? 'http' : 'https';
    entry.host = u.host;
    let p = u.pathname.replace(/\/+$/, '');
    if (!overridePath && !p.endsWith('/v2')) p += '/v2';
    entry.path = p || '/';
  }
  const abs = (p: string): string => (isAbsolute(p) ? p : join(baseDir, p));
  if (cfg.capabilities !== undefined) {
    const caps = strings(cfg.capabilities, 'capabilities').map((c) => c.toLowerCase());
    for (const c of caps) {
      if (!(ALL_CAPABILITIES as string[]).includes(c)) throw new InvalidArgumentError(`unknown capability ${c}`);
    }
    if (caps.length) entry.capabilities = caps as HostCapability[];
  }
  if (cfg.ca !== undefined) entry.ca = strings(cfg.ca, 'ca').map(abs);
  if (cfg.client !== undefined) {
    const c = cfg.client;
    const pairs: Array<[string, string]> = [];
    for (const item of typeof c === 'string' ? [c] : Array.isArray(c) ? c : [null]) {
      if (typeof item === 'string') pairs.push([abs(item), '']);
      else if (Array.isArray(item) && item.length === 2 && item.every((x) => typeof x === 'string')) pairs.push([abs(item[0]), abs(item[1])]);
      else throw new InvalidArgumentError('invalid type for "client" in hosts.toml');
    }
    entry.client = pairs;
  }
  if (cfg.skip_verify !== undefined) {
    if (typeof cfg.skip_verify !== 'boolean') throw new InvalidArgumentError('invalid type for "skip_verify" in hosts.toml');
    entry.skipVerify = cfg.skip_verify;
  }
  if (cfg.header !== undefined) {
    const header: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(cfg.header as Record<string, unknown>)) header[k] = strings(v, `header.${k}`);
    entry.header = header;
  }
  return entry;
}

async function findHostDir(root: string, registry: string): Promise<string | undefined> {
  for (const name of hostDirectoryNames(registry)) {
    const dir = join(root, name);
    if (await stat(dir).then((s) => s.isDirectory(), () => false)) return dir;
  }
  return undefined;
}

async function loadDir(dir: string): Promise<HostEntry[]> {
  const text = await readFile(join(dir, 'hosts.toml'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  if (text.trim() !== '') return parseHostsToml(text, dir);
  // Without hosts.toml, the directory is a docker-style certs dir: *.crt are CAs, *.cert/*.key pairs.
  const names = await readdir(dir);
  const entry: HostEntry = { path: '/v2', capabilities: [...ALL_CAPABILITIES] };
  const ca = names.filter((n) => n.endsWith('.crt')).map((n) => join(dir, n));
  const client = names.filter((n) => n.endsWith('.cert')).map((n): [string, string] => [join(dir, n), join(dir, n.replace(/\.cert$/, '.key'))]);
  if (ca.length) entry.ca = ca;
  if (client.length) entry.client = client;
  return [entry];
}

async function toRegistryHost(e: HostEntry, registry: string, opts: HostsConfigOptions): Promise<RegistryHost> {
  let scheme = e.scheme;
  let host = e.host;
  let skipVerify = e.skipVerify;
  if (!host) {
    const plain = typeof opts.plainHttp === 'function' ? opts.plainHttp(registry) : opts.plainHttp;
    if (registry === 'docker.io') {
      host = 'registry-1.docker.io';
      scheme = 'https';
    } else {
      host = registry;
      scheme = plain || (plain === undefined && isLocalhost(registry)) ? 'http' : 'https';
    }
    if (scheme === 'http' && skipVerify === undefined) skipVerify = true;
  }
  const rh: RegistryHost = { scheme: scheme ?? 'https', host, path: e.path, capabilities: e.capabilities };
  if (e.header) rh.header = e.header;
  if (e.ca || e.client || skipVerify !== undefined) {
    rh.tls = {};
    if (e.ca) rh.tls.ca = await Promise.all(e.ca.map((f) => readFile(f, 'utf8')));
    if (e.client) {
      rh.tls.clientCerts = await Promise.all(
        e.client.map(async ([cert, key]) => {
          const c = await readFile(cert, 'utf8');
          return { cert: c, key: key ? await readFile(key, 'utf8') : c };
        }),
      );
    }
    if (skipVerify !== undefined) rh.tls.skipVerify = skipVerify;
  }
  return rh;
}

/**
 * configureHosts returns the {@link RegistryHosts} containerd would use: the hosts of
 * `<hostsDir>/<registry>/hosts.toml` (mirrors first), ending with the upstream, which defaults to
 * `registry-1.docker.io` for `docker.io`, plain HTTP for loopback registries, and HTTPS otherwise.
 */
export function configureHosts(opts: HostsConfigOptions = {}): RegistryHosts {
  return async (registry) => {
    let entries: HostEntry[] = [];
    if (opts.hostsDir) {
      const dir = await findHostDir(opts.hostsDir, registry);
      if (dir) entries = await loadDir(dir);
    }
    if (entries.length === 0) entries = [{ path: '/v2', capabilities: [...ALL_CAPABILITIES] }];
    return Promise.all(entries.map((e) => toRegistryHost(e, registry, opts)));
  };
}
