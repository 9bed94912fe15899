/**
 * Interoperability with the Go implementation: containerd's runc shim (ttrpc 1.1) as the server
 * for our client, and the shim's event publisher as a Go client of our server.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { isNotFound, isUnavailable } from '@ctrd/errdefs';
import { TtrpcClient } from './client.js';
import type { CallContext } from './server-connection.js';
import { TtrpcServer } from './server.js';
import { tempDir, waitFor } from './testing.js';

const SHIM = '/usr/bin/containerd-shim-runc-v2';
const TASK = 'containerd.task.v2.Task';
const NS = 'ttrpc-interop';
const NS_KEY = 'containerd-namespace-ttrpc';

function findRunc(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'runc'))) return join(dir, 'runc');
  }
  return undefined;
}

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the runc shim needs root';
  if (!existsSync(SHIM)) return `${SHIM} is not installed`;
  return undefined;
}

/** msg encodes a flat message of string / bool / varint fields. */
function msg(fields: [number, string | boolean][]): Uint8Array {
  const w = new BinaryWriter();
  for (const [no, v] of fields) {
    if (typeof v === 'string') w.tag(no, WireType.LengthDelimited).string(v);
    else w.tag(no, WireType.Varint).bool(v);
  }
  return w.finish();
}

/** fields decodes the top-level varint and length-delimited fields of a message. */
function fields(bytes: Uint8Array): Map<number, number | Uint8Array> {
  const r = new BinaryReader(bytes);
  const out = new Map<number, number | Uint8Array>();
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (wt === WireType.Varint) out.set(no, r.uint32());
    else if (wt === WireType.LengthDelimited) out.set(no, r.bytes());
    else r.skip(wt, no);
  }
  return out;
}

const str = (v: number | Uint8Array | undefined): string => (v instanceof Uint8Array ? new TextDecoder().decode(v) : '');

interface Shim {
  address: string;
  /** The shim daemon's pid, once learnt from Connect. */
  pid: number;
  bundle: string;
  ttrpcAddress: string;
  log: () => string;
}

/** startShim runs `<shim> start` as containerd does and registers cleanup of everything it leaves. */
async function startShim(t: TestContext, id: string, prepareBundle?: (bundle: string) => void): Promise<Shim> {
  const dir = tempDir();
  const bundle = join(dir.path, id);
  const grpcAddress = join(dir.path, 'containerd.sock');
  const socketPath = `/run/containerd/s/${createHash('sha256').update(`${grpcAddress}/${NS}/${id}`).digest('hex')}`;
  let logText = '';
  let logStream: net.Socket | undefined;
  const shim: Shim = { address: '', pid: 0, bundle, ttrpcAddress: `${grpcAddress}.ttrpc`, log: () => logText };
  t.after(() => {
    for (const pid of shimPids(id)) process.kill(pid, 'SIGKILL');
    const runc = findRunc();
    if (runc !== undefined && existsSync(`/run/containerd/runc/${NS}/${id}`)) {
      try {
        execFileSync(runc, ['--root', `/run/containerd/runc/${NS}`, 'delete', '--force', id], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
    rmSync(socketPath, { force: true });
    try {
      rmdirSync(`/run/containerd/runc/${NS}`);
    } catch {
      // Not empty or absent: left for whoever else uses the namespace.
    }
    logStream?.destroy();
    dir.dispose();
  });

  mkdirSync(bundle);
  if (prepareBundle !== undefined) prepareBundle(bundle);
  else writeFileSync(join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2' }));
  execFileSync('mkfifo', [join(bundle, 'log')]);
  const logFd = openSync(join(bundle, 'log'), constants.O_RDONLY | constants.O_NONBLOCK);
  logStream = new net.Socket({ fd: logFd, readable: true, writable: false });
  logStream.on('data', (c: Buffer) => (logText += c.toString()));
  logStream.on('error', () => {});

  const child = spawn(SHIM, ['-namespace', NS, '-address', grpcAddress, '-publish-binary', '/bin/true', '-id', id, 'start'], {
    cwd: bundle,
    env: { ...process.env, TTRPC_ADDRESS: `${grpcAddress}.ttrpc` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `shim start failed: ${stderr}`);
  const address = stdout.trim();
  assert.match(address, /^unix:\/\/\/run\/containerd\/s\/[0-9a-f]{64}$/);
  assert.equal(address, `unix://${socketPath}`);
  shim.address = address.slice('unix://'.length);
  return shim;
}

/** shimPids lists the running shim processes serving `id` (the ids are unique to this run). */
function shimPids(id: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0] === SHIM && argv.includes(id)) out.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}

/** alive reports whether `pid` still runs (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function shutdownShim(client: TtrpcClient, id: string, shimPid: number): Promise<void> {
  try {
    const out = await client.call(TASK, 'Shutdown', msg([[1, id], [2, true]]), { timeoutMs: 5000 });
    assert.equal(out.length, 0, 'Shutdown answers google.protobuf.Empty');
  } catch (err) {
    // The shim may exit before its answer is written, as containerd tolerates.
    assert.ok(isUnavailable(err), `Shutdown failed: ${String(err)}`);
  }
  await waitFor(() => !alive(shimPid), 5000);
}

test('our client drives containerd-shim-runc-v2: Connect, State, Shutdown', async (t) => {
  const reason = skipReason();
  if (reason !== undefined) return t.skip(reason);
  const id = `ttrpc-${process.pid}-a`;
  const shim = await startShim(t, id);
  const client = await TtrpcClient.connect(shim.address);
  t.after(() => client.close());
  const md = { metadata: { [NS_KEY]: NS }, timeoutMs: 5000 };

  const connect = fields(await client.call(TASK, 'Connect', msg([[1, id]]), md));
  const shimPid = connect.get(1);
  assert.ok(typeof shimPid === 'number' && shimPid > 0, 'shim_pid is set');
  shim.pid = shimPid;
  assert.match(readFileSync(`/proc/${shimPid}/cmdline`, 'utf8'), /containerd-shim-runc-v2/);
  assert.equal(connect.get(2) ?? 0, 0, 'no task yet');

  await assert.rejects(client.call(TASK, 'State', msg([[1, 'no-such-task']]), md), (err: Error) => {
    assert.ok(isNotFound(err), `expected NotFound, got ${err.name}: ${err.message}`);
    assert.equal(err.message, 'container not created');
    return true;
  });
  await assert.rejects(client.call(TASK, 'NoSuchMethod', new Uint8Array(0), md), (err: Error) => {
    assert.equal(err.name, 'NotImplementedError');
    assert.equal(err.message, 'method NoSuchMethod');
    return true;
  });

  const calls = await Promise.all(
    Array.from({ length: 50 }, () => client.call(TASK, 'Connect', msg([[1, id]]), md).then(fields)),
  );
  assert.ok(calls.every((c) => c.get(1) === shimPid), 'concurrent calls all answered');

  await shutdownShim(client, id, shimPid);
  assert.equal(existsSync(shim.address), false, 'shim removed its socket');
  await waitFor(() => client.isClosed, 5000);
});

test("the shim's Go ttrpc client publishes events to our server", async (t) => {
  const reason = skipReason() ?? (findRunc() === undefined ? 'runc is not installed' : undefined);
  if (reason !== undefined) return t.skip(reason);
  const runc = findRunc()!;
  const id = `ttrpc-${process.pid}-b`;
  const events: { topic: string; namespace: string; ctx: CallContext }[] = [];
  const server = new TtrpcServer().register('containerd.services.events.ttrpc.v1.Events', {
    Forward: (payload, ctx) => {
      const envelope = fields(fields(payload).get(1) as Uint8Array);
      events.push({ topic: str(envelope.get(3)), namespace: str(envelope.get(2)), ctx });
      return new Uint8Array(0);
    },
  });
  const shim = await startShim(t, id, (bundle) => {
    // A container that only needs the host's /usr: enough for `runc create` to succeed.
    execFileSync(runc, ['spec', '--bundle', bundle]);
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process.args = ['/bin/true'];
    spec.process.terminal = false;
    spec.mounts.push({ destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro'] });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    mkdirSync(join(bundle, 'rootfs', 'usr'), { recursive: true });
    for (const l of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${l}`, join(bundle, 'rootfs', l));
  });
  await server.listen(shim.ttrpcAddress);
  t.after(() => server.close({ timeoutMs: 1000 }));
  const client = await TtrpcClient.connect(shim.address);
  t.after(() => client.close());
  const md = { metadata: { [NS_KEY]: NS }, timeoutMs: 10_000 };

  shim.pid = fields(await client.call(TASK, 'Connect', msg([[1, id]]), md)).get(1) as number;
  const created = fields(await client.call(TASK, 'Create', msg([[1, id], [2, shim.bundle]]), md));
  assert.ok((created.get(1) as number) > 0, `task pid (log: ${shim.log()})`);
  await waitFor(() => events.some((e) => e.topic === '/tasks/create'), 5000);
  await client.call(TASK, 'Delete', msg([[1, id]]), md);
  await waitFor(() => events.some((e) => e.topic === '/tasks/delete'), 5000);

  const create = events.find((e) => e.topic === '/tasks/create')!;
  assert.equal(create.namespace, NS);
  assert.equal(create.ctx.method, 'Forward');
  // The publisher calls with a 5 s timeout: timeout_nano arrived and became a deadline.
  assert.ok(create.ctx.deadline !== undefined && create.ctx.deadline > Date.now() - 10_000);
  assert.deepEqual(create.ctx.metadata[NS_KEY], [NS]);

  await shutdownShim(client, id, shim.pid);
});
