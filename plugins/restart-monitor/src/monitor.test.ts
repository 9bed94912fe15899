import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError, FailedPreconditionError } from '@ctrd/errdefs';
import type { Container } from '@ctrd/metadata';
import type { CreateOpts, Exit, PlatformRuntime, ProcessStatus, Task } from '@ctrd/runtime';
import { LOG_PATH_LABEL, LOG_URI_LABEL, STATUS_LABEL, restartIO, desiredStatus } from './labels.js';
import { RestartMonitor } from './monitor.js';

/** FakeTask is a task whose status the test sets; kill moves it to stopped and resolves waiters. */
class FakeTask {
  status: ProcessStatus = 'created';
  killed: Array<{ signal: number; all: boolean | undefined }> = [];
  failStart = false;
  private waiters: Array<(e: Exit) => void> = [];
  constructor(
    readonly namespace: string,
    readonly id: string,
    readonly opts: CreateOpts,
  ) {}
  async state() {
    return { id: this.id, pid: 1, status: this.status, io: this.opts.io, exitStatus: 0, exitedAt: undefined };
  }
  async start() {
    if (this.failStart) throw new Error('exec failed');
    this.status = 'running';
    return 42;
  }
  async kill(signal: number, all?: boolean) {
    this.killed.push({ signal, all });
    if (this.status === 'stopped') throw new NotFoundError('process already finished');
    this.exit();
  }
  exit() {
    this.status = 'stopped';
    for (const w of this.waiters.splice(0)) w({ pid: 1, status: 137, exitedAt: new Date() });
  }
  wait(signal?: AbortSignal): Promise<Exit> {
    if (this.status === 'stopped') return Promise.resolve({ pid: 1, status: 137, exitedAt: new Date() });
    return new Promise((resolve, reject) => {
      this.waiters.push(resolve);
      signal?.addEventListener('abort', () => reject(new Error('aborted')));
    });
  }
}

/** FakeRuntime keeps FakeTasks by namespace/id and records creates and deletes. */
class FakeRuntime {
  readonly id = 'fake';
  readonly tasks_ = new Map<string, FakeTask>();
  created: Array<{ ns: string; id: string; opts: CreateOpts }> = [];
  deleted: string[] = [];
  failStartFor = new Set<string>();
  async create(ns: string, id: string, opts: CreateOpts) {
    if (this.tasks_.has(`${ns}/${id}`)) throw new Error(`task ${id} exists`);
    const t = new FakeTask(ns, id, opts);
    t.failStart = this.failStartFor.has(id);
    this.tasks_.set(`${ns}/${id}`, t);
    this.created.push({ ns, id, opts });
    return t as unknown as Task;
  }
  async get(ns: string, id: string) {
    const t = this.tasks_.get(`${ns}/${id}`);
    if (t === undefined) throw new NotFoundError(`task ${id}`);
    return t as unknown as Task;
  }
  async tasks() {
    return [...this.tasks_.values()] as unknown as Task[];
  }
  async delete(ns: string, id: string): Promise<Exit> {
    const t = this.tasks_.get(`${ns}/${id}`);
    if (t === undefined) throw new NotFoundError(`task ${id}`);
    if (t.status === 'running') throw new FailedPreconditionError(`task ${id} must be stopped before deletion: running`);
    this.tasks_.delete(`${ns}/${id}`);
    this.deleted.push(`${ns}/${id}`);
    return { pid: 1, status: 137, exitedAt: new Date() };
  }
  put(ns: string, id: string, status: ProcessStatus): FakeTask {
    const t = new FakeTask(ns, id, { spec: new Uint8Array(), rootfs: [], io: { stdin: '', stdout: '', stderr: '', terminal: false }, runtime: 'x' });
    t.status = status;
    this.tasks_.set(`${ns}/${id}`, t);
    return t;
  }
}

function container(id: string, labels: Record<string, string>, extra: Partial<Container> = {}): Container {
  return {
    id,
    labels,
    image: 'img',
    runtime: { name: 'io.containerd.runc.v2' },
    spec: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: new TextEncoder().encode('{"ociVersion":"1.0.2"}') },
    snapshotter: 'overlayfs',
    snapshotKey: id,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    extensions: {},
    ...extra,
  };
}

function setup(byNs: Record<string, Container[]>) {
  const runtime = new FakeRuntime();
  const filtersSeen: string[][] = [];
  const monitor = new RestartMonitor({
    namespaces: async () => Object.keys(byNs),
    containers: async (ns, filters) => {
      filtersSeen.push([...filters]);
      return byNs[ns] ?? [];
    },
    rootfs: async (_ns, c) => [{ type: 'overlay', source: 'overlay', options: [`upperdir=/snap/${c.snapshotKey}`] }],
    runtime: runtime as unknown as PlatformRuntime,
    defaultRuntime: 'io.containerd.ctrd.v1',
    startGraceMs: 0,
  });
  return { runtime, monitor, filtersSeen };
}

test('desiredStatus accepts running and stopped only', () => {
  assert.equal(desiredStatus({ [STATUS_LABEL]: 'running' }), 'running');
  assert.equal(desiredStatus({ [STATUS_LABEL]: 'stopped' }), 'stopped');
  assert.equal(desiredStatus({ [STATUS_LABEL]: 'paused' }), undefined);
  assert.equal(desiredStatus({}), undefined);
});

test('restartIO: null IO by default, the log URI wins over the log path, a path becomes file://', () => {
  assert.deepEqual(restartIO({}), { stdin: '', stdout: '', stderr: '', terminal: false });
  assert.equal(restartIO({ [LOG_PATH_LABEL]: '/var/log/c.log' }).stdout, 'file:///var/log/c.log');
  const both = restartIO({ [LOG_PATH_LABEL]: '/var/log/c.log', [LOG_URI_LABEL]: 'binary:///usr/bin/logger?tag=x' });
  assert.equal(both.stdout, 'binary:///usr/bin/logger?tag=x');
  assert.equal(both.stderr, both.stdout);
  assert.throws(() => restartIO({ [LOG_URI_LABEL]: 'not a uri' }));
});

test('a container that should run and has no task gets one created from its spec and snapshot, and started', async () => {
  const c = container('web', { [STATUS_LABEL]: 'running' });
  const { runtime, monitor, filtersSeen } = setup({ default: [c] });
  const changes = await monitor.reconcile();
  assert.deepEqual(changes, [{ namespace: 'default', id: 'web', action: 'start' }]);
  assert.deepEqual(filtersSeen, [['labels."containerd.io/restart.status"']]);
  assert.equal(runtime.created.length, 1);
  const { opts } = runtime.created[0]!;
  assert.deepEqual(opts.spec, c.spec!.value);
  assert.equal(opts.runtime, 'io.containerd.runc.v2');
  assert.deepEqual(opts.rootfs, [{ type: 'overlay', source: 'overlay', options: ['upperdir=/snap/web'] }]);
  assert.deepEqual(opts.io, { stdin: '', stdout: '', stderr: '', terminal: false });
  assert.equal((await (await runtime.get('default', 'web')).state()).status, 'running');
  assert.deepEqual(await monitor.reconcile(), [], 'a running task is left alone');
});

test('a stopped task of a container that should run is deleted and replaced', async () => {
  const { runtime, monitor } = setup({ ns1: [container('c1', { [STATUS_LABEL]: 'running' }, { runtime: { name: '' } })] });
  const old = runtime.put('ns1', 'c1', 'stopped');
  await monitor.reconcile();
  assert.deepEqual(runtime.deleted, ['ns1/c1']);
  const fresh = runtime.tasks_.get('ns1/c1')!;
  assert.notEqual(fresh, old);
  assert.equal(fresh.status, 'running');
  assert.equal(fresh.opts.runtime, 'io.containerd.ctrd.v1', 'a container naming no runtime gets the default');
});

test('a running task of a container that should be stopped is SIGKILLed (all processes) and deleted', async () => {
  const { runtime, monitor } = setup({ default: [container('db', { [STATUS_LABEL]: 'stopped' })] });
  const t = runtime.put('default', 'db', 'running');
  const changes = await monitor.reconcile();
  assert.deepEqual(changes, [{ namespace: 'default', id: 'db', action: 'stop' }]);
  assert.deepEqual(t.killed, [{ signal: 9, all: true }]);
  assert.deepEqual(runtime.deleted, ['default/db']);
  assert.equal(runtime.created.length, 0);
  assert.deepEqual(await monitor.reconcile(), [], 'no task counts as stopped');
});

test('unlabelled containers and unknown statuses are left alone; namespaces are independent', async () => {
  const { runtime, monitor } = setup({
    a: [container('x', {}), container('y', { [STATUS_LABEL]: 'paused' })],
    b: [container('x', { [STATUS_LABEL]: 'running' })],
  });
  runtime.put('a', 'x', 'stopped');
  const changes = await monitor.reconcile();
  assert.deepEqual(changes, [{ namespace: 'b', id: 'x', action: 'start' }]);
  assert.equal(runtime.tasks_.get('a/x')!.status, 'stopped');
  assert.equal(runtime.tasks_.has('a/y'), false);
});

test('a task that fails to start is reported and removed, and the next reconcile tries again', async () => {
  const { runtime, monitor } = setup({ default: [container('bad', { [STATUS_LABEL]: 'running' })] });
  runtime.failStartFor.add('bad');
  const [change] = await monitor.reconcile();
  assert.equal(change!.action, 'start');
  assert.match(change!.error!.message, /exec failed/);
  assert.equal(runtime.tasks_.has('default/bad'), false, 'no created task left behind');
  runtime.failStartFor.clear();
  const again = await monitor.reconcile();
  assert.deepEqual(again, [{ namespace: 'default', id: 'bad', action: 'start' }]);
  assert.equal(runtime.created.length, 2);
});

test('a failing namespace does not stop the others', async () => {
  const runtime = new FakeRuntime();
  const monitor = new RestartMonitor({
    namespaces: async () => ['broken', 'ok'],
    containers: async (ns) => {
      if (ns === 'broken') throw new Error('boom');
      return [container('c', { [STATUS_LABEL]: 'running' })];
    },
    rootfs: async () => [],
    runtime: runtime as unknown as PlatformRuntime,
    defaultRuntime: 'x',
    startGraceMs: 0,
  });
  assert.deepEqual(await monitor.reconcile(), [{ namespace: 'ok', id: 'c', action: 'start' }]);
});

test('start() reconciles at once and then every interval; close() stops the loop', async () => {
  const { runtime, monitor } = setup({ default: [container('loop', { [STATUS_LABEL]: 'running' })] });
  monitor.start(20);
  const deadline = Date.now() + 2000;
  while (runtime.created.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(runtime.created.length, 1);
  runtime.tasks_.get('default/loop')!.exit();
  while (runtime.created.length === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(runtime.created.length, 2, 'the exited task was replaced by the next reconcile');
  await monitor.close();
  runtime.tasks_.get('default/loop')!.exit();
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(runtime.created.length, 2, 'nothing happens after close');
  await monitor.close();
});

test('a container created moments ago with no task, or a created one, is left for its creator to start', async () => {
  const runtime = new FakeRuntime();
  const fresh = container('new', { [STATUS_LABEL]: 'running' }, { createdAt: new Date() });
  const old = container('old', { [STATUS_LABEL]: 'running' });
  const monitor = new RestartMonitor({
    namespaces: async () => ['default'],
    containers: async () => [fresh, old],
    rootfs: async () => [],
    runtime: runtime as unknown as PlatformRuntime,
    defaultRuntime: 'x',
    startGraceMs: 60_000,
  });
  assert.deepEqual(await monitor.reconcile(), [{ namespace: 'default', id: 'old', action: 'start' }]);
  runtime.put('default', 'new', 'created');
  assert.deepEqual(await monitor.reconcile(), [], 'nor is its task while only created');
  runtime.tasks_.get('default/new')!.status = 'stopped';
  assert.deepEqual(await monitor.reconcile(), [{ namespace: 'default', id: 'new', action: 'start' }], 'a fresh container whose task stopped is restarted');
});
