import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SpecTypeUrls, TypeUrls, unpackAnyAs } from '@ctrd/api';
import { EventsDefinition } from '@ctrd/api/gen/containerd/services/ttrpc/events/v1/events.js';
import { TaskDefinition } from '@ctrd/api/gen/containerd/runtime/v2/task/shim.js';
import { isNotFound, UnavailableError } from '@ctrd/errdefs';
import { shimServerPaths } from '@ctrd/shim/address';
import type { EventPayload, Publisher } from '@ctrd/events';
import type { Task } from '@ctrd/runtime';
import { registerService, TtrpcServer } from '@ctrd/ttrpc';
import { defaultShimDirs, resolveShimBinary } from './shim-binary-path.js';
import { TaskManager } from './task-manager.js';
import { containerSkipReason, fixture, RUNC_SHIM, shimServerStandIn, type Fixture } from './testing.js';

const NS = `rtv2-${process.pid}`;

interface Rig {
  fx: Fixture;
  events: { topic: string; namespace: string }[];
  published: { topic: string; namespace: string; event: EventPayload }[];
  manager(): TaskManager;
  ttrpc: string;
}

async function rig(t: TestContext): Promise<Rig> {
  const fx = fixture();
  const events: Rig['events'] = [];
  const published: Rig['published'] = [];
  const server = new TtrpcServer();
  registerService(server, EventsDefinition, {
    async forward(req) {
      events.push({ topic: req.envelope?.topic ?? '', namespace: req.envelope?.namespace ?? '' });
      return {};
    },
  });
  const ttrpc = join(fx.dir, 'ctrd.sock.ttrpc');
  await server.listen(ttrpc);
  const publisher: Publisher = {
    async publish(namespace, topic, event) {
      published.push({ namespace, topic, event });
    },
  };
  const managers: TaskManager[] = [];
  t.after(async () => {
    for (const m of managers) {
      for (const task of await m.tasks(NS)) {
        await task.kill(9, true).catch(() => {});
        await task.wait().catch(() => {});
        await m.delete(NS, task.id).catch(() => {});
      }
      await m.close();
    }
    await server.close({ timeoutMs: 1000 });
    fx.dispose(NS);
  });
  return {
    fx,
    events,
    published,
    ttrpc,
    manager() {
      const m = new TaskManager({
        stateDir: fx.stateDir,
        rootDir: fx.rootDir,
        address: join(fx.dir, 'ctrd.sock'),
        ttrpcAddress: ttrpc,
        publisher,
        shimDirs: [],
      });
      managers.push(m);
      return m;
    },
  };
}

function createOpts(r: Rig, args: string[], extra: { stdout?: string } = {}) {
  return {
    spec: r.fx.spec(args),
    rootfs: [{ type: 'bind', source: r.fx.rootfs, options: ['rbind', 'rw'] }],
    io: { stdin: '', stdout: extra.stdout ?? '', stderr: '', terminal: false },
    runtime: 'io.containerd.runc.v2',
  };
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** exited reports whether `pid` is gone or a zombie (a zombie's cmdline reads empty). */
function exited(pid: number): boolean {
  return !existsSync(`/proc/${pid}/cmdline`) || readFileSync(`/proc/${pid}/cmdline`).length === 0;
}

async function shimPid(task: Task): Promise<number> {
  return (await (task as unknown as { connect(): Promise<{ shimPid: number }> }).connect()).shimPid;
}

test('create → start → wait → delete with the runc shim, events in order', { timeout: 60_000 }, async (t) => {
  const reason = containerSkipReason();
  if (reason) return t.skip(reason);
  const r = await rig(t);
  const m = r.manager();
  const task = await m.create(NS, 'life', createOpts(r, ['/bin/sh', '-c', 'exit 3']));
  assert.ok(existsSync(join(task.bundle, 'config.json')));
  assert.ok(existsSync(join(task.bundle, 'address')));
  assert.equal(readFileSync(join(task.bundle, 'shim-binary-path'), 'utf8'), RUNC_SHIM);
  assert.equal((await task.state()).status, 'created');
  assert.ok((await task.pid()) > 0);
  await assert.rejects(m.create(NS, 'life', createOpts(r, ['/bin/true'])), /task life/);

  const waiting = task.wait();
  const pid = await task.start();
  assert.ok(pid > 0);
  const exit = await waiting;
  assert.equal(exit.status, 3);
  assert.ok(exit.exitedAt instanceof Date);
  assert.equal((await task.state()).status, 'stopped');

  const deleted = await m.delete(NS, 'life');
  assert.equal(deleted.status, 3);
  assert.equal(deleted.pid, pid);
  assert.equal(existsSync(task.bundle), false, 'bundle removed');
  assert.equal(existsSync(join(r.fx.rootDir, NS, 'life')), false, 'work dir removed');
  await assert.rejects(m.get(NS, 'life'), (err) => isNotFound(err));
  await waitFor(() => r.events.some((e) => e.topic === '/tasks/delete'), 5000);
  assert.deepEqual(
    r.events.map((e) => e.topic),
    ['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete'],
  );
  assert.ok(r.events.every((e) => e.namespace === NS));
});

test('exec, pids, pause/resume, stats and kill', { timeout: 60_000 }, async (t) => {
  const reason = containerSkipReason();
  if (reason) return t.skip(reason);
  const r = await rig(t);
  const m = r.manager();
  const task = await m.create(NS, 'busy', createOpts(r, ['/bin/sleep', '1000']));
  await task.start();
  assert.equal((await task.state()).status, 'running');

  const out = join(r.fx.dir, 'exec.out');
  const spec = JSON.parse(new TextDecoder().decode(r.fx.spec(['/bin/echo', 'hello from exec'])))['process'];
  const proc = await task.exec('e1', {
    spec: { typeUrl: SpecTypeUrls.Process, value: new TextEncoder().encode(JSON.stringify(spec)) },
    // containerd's runc shim needs both streams when one is a file:// URI.
    io: { stdin: '', stdout: `file://${out}`, stderr: `file://${out}.err`, terminal: false },
  });
  const execWait = proc.wait();
  assert.ok((await proc.start()) > 0);
  assert.equal((await execWait).status, 0);
  // containerd's runc shim copies a file:// stream through a pipe of its own and may report the
  // exit before the copy has reached the file.
  await waitFor(() => existsSync(out) && readFileSync(out, 'utf8') !== '', 5000).catch(() => undefined);
  assert.equal(readFileSync(out, 'utf8'), 'hello from exec\n');
  assert.equal((await task.process('e1')).id, 'e1');
  await proc.delete();
  await assert.rejects(task.process('e1'), (err) => isNotFound(err));

  const pids = await task.pids();
  assert.ok(pids.length >= 1 && pids.every((p) => p.pid > 0));

  await task.pause();
  assert.equal((await task.state()).status, 'paused');
  await task.resume();
  assert.equal((await task.state()).status, 'running');

  const stats = await task.stats();
  assert.ok(stats !== undefined);
  assert.ok(stats.typeUrl === TypeUrls.CgroupsV1Metrics || stats.typeUrl === TypeUrls.CgroupsV2Metrics, stats.typeUrl);
  const metrics = unpackAnyAs({ typeUrl: stats.typeUrl, value: Buffer.from(stats.value) }, stats.typeUrl as typeof TypeUrls.CgroupsV1Metrics);
  assert.ok(metrics !== undefined);

  const waiting = task.wait();
  await task.kill(9);
  assert.equal((await waiting).status, 137);
  assert.equal((await m.delete(NS, 'busy')).status, 137);
});

test('recovery: a new manager finds a running task again', { timeout: 60_000 }, async (t) => {
  const reason = containerSkipReason();
  if (reason) return t.skip(reason);
  const r = await rig(t);
  const first = r.manager();
  const task = await first.create(NS, 'keep', createOpts(r, ['/bin/sleep', '1000']));
  const pid = await task.start();
  await first.close();

  const second = r.manager();
  await second.load();
  const found = await second.get(NS, 'keep');
  const state = await found.state();
  assert.equal(state.status, 'running');
  assert.equal(state.pid, pid);
  assert.equal(r.published.length, 0, 'nothing reported exited');
  const waiting = found.wait();
  await found.kill(9);
  assert.equal((await waiting).status, 137);
  await second.delete(NS, 'keep');
});

test('recovery: a shim that died while no manager ran is cleaned up and reported', { timeout: 60_000 }, async (t) => {
  const reason = containerSkipReason();
  if (reason) return t.skip(reason);
  const r = await rig(t);
  const first = r.manager();
  const task = await first.create(NS, 'dead', createOpts(r, ['/bin/sleep', '1000']));
  await task.start();
  const spid = await shimPid(task);
  await first.close();
  process.kill(spid, 'SIGKILL');
  await waitFor(() => exited(spid), 5000);

  const second = r.manager();
  await second.load();
  await assert.rejects(second.get(NS, 'dead'), (err) => isNotFound(err));
  assert.deepEqual(r.published.map((e) => e.topic), ['/tasks/exit', '/tasks/delete']);
  const exit = unpackAnyAs({ typeUrl: r.published[0]!.event.typeUrl, value: Buffer.from(r.published[0]!.event.value) }, TypeUrls.TaskExit);
  assert.equal(exit.containerId, 'dead');
  assert.equal(exit.exitStatus, 137);
  assert.equal(existsSync(task.bundle), false, 'bundle removed');
});

test('a shim dying under a running manager: its task is reported exited and removed', { timeout: 60_000 }, async (t) => {
  const reason = containerSkipReason();
  if (reason) return t.skip(reason);
  const r = await rig(t);
  const m = r.manager();
  const task = await m.create(NS, 'crash', createOpts(r, ['/bin/sleep', '1000']));
  await task.start();
  process.kill(await shimPid(task), 'SIGKILL');
  await waitFor(() => r.published.length >= 2, 10_000);
  await m.settled();
  assert.deepEqual(r.published.map((e) => e.topic), ['/tasks/exit', '/tasks/delete']);
  await assert.rejects(m.get(NS, 'crash'), (err) => isNotFound(err));
  assert.equal(existsSync(task.bundle), false);
});

test("the same lifecycle on ctrd's own shim (io.containerd.ctrd.v1)", { timeout: 60_000 }, async (t) => {
  let binary: string;
  try {
    binary = resolveShimBinary('io.containerd.ctrd.v1', { extraDirs: defaultShimDirs() });
  } catch {
    return t.skip('containerd-shim-ctrd-v1 is not built (packages/shim/bin has no launcher)');
  }
  const reason = containerSkipReason(binary);
  if (reason) return t.skip(reason);
  const r = await rig(t);
  const m = new TaskManager({
    stateDir: r.fx.stateDir,
    rootDir: r.fx.rootDir,
    address: join(r.fx.dir, 'ctrd.sock'),
    ttrpcAddress: r.ttrpc,
  });
  t.after(() => m.close());
  const task = await m.create(NS, 'own', { ...createOpts(r, ['/bin/sh', '-c', 'exit 4']), runtime: 'io.containerd.ctrd.v1' });
  const waiting = task.wait();
  await task.start();
  assert.equal((await waiting).status, 4);
  assert.equal((await m.delete(NS, 'own')).status, 4);
  assert.equal(existsSync(task.bundle), false);
});

test("a create meeting ctrd's shim server on its way out goes through the launcher", { timeout: 60_000 }, async (t) => {
  let binary: string;
  try {
    binary = resolveShimBinary('io.containerd.ctrd.v1', { extraDirs: defaultShimDirs() });
  } catch {
    return t.skip('containerd-shim-ctrd-v1 is not built (packages/shim/bin has no launcher)');
  }
  const reason = containerSkipReason(binary);
  if (reason) return t.skip(reason);
  const r = await rig(t);
  const saved = { run: process.env.CTRD_SHIM_RUN_DIR, idle: process.env.CTRD_SHIM_IDLE_EXIT_MS };
  process.env.CTRD_SHIM_RUN_DIR = join(r.fx.dir, 'shim-run');
  process.env.CTRD_SHIM_IDLE_EXIT_MS = '0';
  t.after(() => {
    for (const [k, v] of [['CTRD_SHIM_RUN_DIR', saved.run], ['CTRD_SHIM_IDLE_EXIT_MS', saved.idle]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const address = join(r.fx.dir, 'ctrd.sock');
  const paths = shimServerPaths(address, NS);
  mkdirSync(dirname(paths.pid), { recursive: true });
  // A stand-in for a server that has just decided to exit: it answers Connect, refuses Create
  // the way the real one does, and goes away.
  const dying = new TtrpcServer();
  let refused = 0;
  registerService(dying, TaskDefinition, {
    async connect() {
      return { shimPid: process.pid, taskPid: 0, version: '' };
    },
    async create() {
      refused++;
      rmSync(paths.pid, { force: true });
      void dying.close({ timeoutMs: 100 });
      throw new UnavailableError('shim server is shutting down');
    },
  } as never);
  await dying.listen(paths.socket);
  t.after(() => dying.close({ timeoutMs: 100 }).catch(() => undefined));
  const standIn = shimServerStandIn(paths.socket);
  t.after(() => standIn.kill('SIGKILL'));
  writeFileSync(paths.pid, String(standIn.pid));
  const m = new TaskManager({ stateDir: r.fx.stateDir, rootDir: r.fx.rootDir, address, ttrpcAddress: r.ttrpc });
  t.after(() => m.close());
  const task = await m.create(NS, 'fallback', { ...createOpts(r, ['/bin/sh', '-c', 'exit 6']), runtime: 'io.containerd.ctrd.v1' });
  assert.equal(refused, 1, 'the running server was tried first');
  const served = Number(readFileSync(paths.pid, 'utf8'));
  assert.notEqual(served, standIn.pid, 'a new server took the task');
  const waiting = task.wait();
  await task.start();
  assert.equal((await waiting).status, 6);
  assert.equal((await m.delete(NS, 'fallback')).status, 6);
  // With its last task gone the new server exits at once (idle exit 0) and removes its files,
  // the lock file last: the directory is removed after that, not while the server is at it.
  await waitFor(() => exited(served), 10_000);
  assert.equal(existsSync(paths.lock), false, 'the exiting server removed its lock file');
});

test('load removes what deletes interrupted by a kill left, and nothing else', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtv2-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stateDir = join(dir, 'state');
  const rootDir = join(dir, 'root');
  // A bundle and a work directory renamed to their dot-names, then the kill.
  for (const d of [join(stateDir, 'ns', '.gone', 'rootfs'), join(rootDir, 'ns', '.gone')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(stateDir, 'ns', '.gone', 'config.json'), '{}');
  writeFileSync(join(stateDir, 'ns', 'note'), 'a file, not a bundle');
  const m = new TaskManager({ stateDir, rootDir, address: join(dir, 'c.sock'), ttrpcAddress: join(dir, 'c.sock.ttrpc'), shimDirs: [] });
  t.after(() => m.close());
  await m.load();
  assert.equal(existsSync(join(stateDir, 'ns', '.gone')), false);
  assert.equal(existsSync(join(rootDir, 'ns', '.gone')), false);
  assert.equal(existsSync(join(stateDir, 'ns', 'note')), true);
  assert.deepEqual(await m.tasks(), []);
});
