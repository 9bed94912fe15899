import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpecTypeUrls, TypeUrls, unpackAnyAs } from '@ctrd/api';
import { TaskDefinition } from '@ctrd/api/gen/containerd/runtime/v2/task/shim.js';
import { Status } from '@ctrd/api/gen/containerd/types/task/task.js';
import { TtrpcClient, createClient, type ServiceClient, type TtrpcServer } from '@ctrd/ttrpc';
import { isFailedPrecondition, isNotFound } from '@ctrd/errdefs';
import { alive, eventsUntil, integrationSkipReason, makeBundle, makeRootfs, mkfifo, serverPids, startEventsServer, type RecordedEvent } from './testing.js';

const run = promisify(execFile);
const launcher = fileURLToPath(new URL('../bin/containerd-shim-ctrd-v1', import.meta.url));
const skip = integrationSkipReason();

describe('containerd-shim-ctrd-v1 against runc', { skip }, () => {
  let dir: string;
  let runDir: string;
  let events: RecordedEvent[];
  let eventsServer: TtrpcServer;
  const address = `/tmp/ctrd-shim-test-${process.pid}.sock`;
  let client: TtrpcClient;
  let task: ServiceClient<typeof TaskDefinition>;
  let shimAddress: string;

  const start = async (id: string, bundle: string): Promise<string> => {
    const { stdout } = await run(launcher, ['-namespace', 't', '-address', address, '-publish-binary', '/bin/true', '-id', id, 'start'], {
      cwd: bundle,
      env: { ...process.env, TTRPC_ADDRESS: join(dir, 'events.sock'), CTRD_SHIM_RUN_DIR: runDir, CTRD_SHIM_IDLE_EXIT_MS: '0' },
    });
    return stdout.trim();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ctrd-shim-'));
    runDir = join(dir, 'run');
    makeRootfs(join(dir, 'rootfs'));
    ({ events, server: eventsServer } = await startEventsServer(join(dir, 'events.sock')));
  });

  after(async () => {
    client?.close();
    await eventsServer?.close();
    await run('sh', ['-c', `runc --root /run/ctrd/runc/t delete --force c1 c2 2>/dev/null; umount ${dir}/*/rootfs 2>/dev/null; true`]);
    rmSync(dir, { recursive: true, force: true });
  });

  const bind = () => [{ type: 'bind', source: join(dir, 'rootfs'), target: '', options: ['rbind', 'rw'] }];
  const createReq = (id: string, bundle: string, stdout = '') => ({
    id, bundle, rootfs: bind(), terminal: false, stdin: '', stdout, stderr: '', checkpoint: '', parentCheckpoint: '', options: undefined,
  });

  it('start prints an address and Create/Start/Wait run a task to its exit code', async () => {
    const bundle = join(dir, 'c2');
    makeBundle(bundle, ['sh', '-c', 'echo hello; exit 3']);
    const out = join(dir, 'c2-stdout');
    mkfifo(out);
    shimAddress = await start('c2', bundle);
    assert.match(shimAddress, /^unix:\/\/.*\.sock$/);
    client = await TtrpcClient.connect(shimAddress.slice('unix://'.length));
    task = createClient(TaskDefinition, client, { metadata: { 'containerd-namespace-ttrpc': 't' } });
    const reader = await open(out, 'r+');
    const created = await task.create(createReq('c2', bundle, out));
    assert.ok(created.pid > 0);
    assert.equal(existsSync(join(bundle, 'rootfs/bin/busybox')), true);
    const started = await task.start({ id: 'c2', execId: '' });
    assert.equal(started.pid, created.pid);
    const waited = await task.wait({ id: 'c2', execId: '' });
    assert.equal(waited.exitStatus, 3);
    const buf = Buffer.alloc(64);
    const { bytesRead } = await reader.read(buf, 0, 64);
    assert.equal(buf.subarray(0, bytesRead).toString(), 'hello\n');
    await reader.close();
    const state = await task.state({ id: 'c2', execId: '' });
    assert.equal(state.status, Status.STOPPED);
    const deleted = await task.delete({ id: 'c2', execId: '' });
    assert.equal(deleted.exitStatus, 3);
    assert.equal(existsSync(join(bundle, 'rootfs/bin/busybox')), false, 'rootfs unmounted');
    const mine = (all: typeof events) => all.filter((e) => e.event.containerId === 'c2');
    await eventsUntil(events, (all) => mine(all).some((e) => e.topic === '/tasks/delete'));
    const topics = mine(events).map((e) => e.topic);
    assert.deepEqual(topics, ['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']);
    assert.equal(events[0].namespace, 't');
  });

  it('serves a second task from the same server and runs pids, pause, exec, stats, kill', async () => {
    const bundle = join(dir, 'c1');
    makeBundle(bundle, ['sleep', '1000']);
    const second = await start('c1', bundle);
    assert.equal(second, shimAddress, 'one server per namespace');
    const before = events.length;
    const { pid } = await task.create(createReq('c1', bundle));
    await task.start({ id: 'c1', execId: '' });
    const conn = await task.connect({ id: 'c1' });
    assert.equal(conn.taskPid, pid);
    assert.notEqual(conn.shimPid, process.pid);
    const pids = await task.pids({ id: 'c1' });
    assert.ok(pids.processes.some((p) => p.pid === pid));

    await task.pause({ id: 'c1' });
    assert.equal((await task.state({ id: 'c1', execId: '' })).status, Status.PAUSED);
    await task.resume({ id: 'c1' });

    const spec = { args: ['sh', '-c', 'exit 5'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } };
    await task.exec({
      id: 'c1', execId: 'e1', terminal: false, stdin: '', stdout: '', stderr: '',
      spec: { typeUrl: SpecTypeUrls.Process, value: Buffer.from(JSON.stringify(spec)) },
    });
    await task.start({ id: 'c1', execId: 'e1' });
    assert.equal((await task.wait({ id: 'c1', execId: 'e1' })).exitStatus, 5);
    await task.delete({ id: 'c1', execId: 'e1' });

    const stats = await task.stats({ id: 'c1' });
    assert.equal(stats.stats?.typeUrl, TypeUrls.CgroupsV1Metrics);
    const metrics = unpackAnyAs(stats.stats!, TypeUrls.CgroupsV1Metrics);
    assert.ok(BigInt(metrics.memory?.usage?.usage ?? '0') > 0n);
    assert.ok(BigInt(metrics.pids?.current ?? '0') >= 1n);

    await assert.rejects(task.delete({ id: 'c1', execId: '' }), isFailedPrecondition);
    await task.kill({ id: 'c1', execId: '', signal: 9, all: false });
    assert.equal((await task.wait({ id: 'c1', execId: '' })).exitStatus, 137);
    await assert.rejects(task.kill({ id: 'c1', execId: '', signal: 9, all: false }), isNotFound);
    await task.delete({ id: 'c1', execId: '' });
    await eventsUntil(events, (all) => all.slice(before).some((e) => e.topic === '/tasks/delete'));
    const topics = events.slice(before).map((e) => `${e.topic}${e.event.execId ?? (e.event.id === 'e1' ? ':e1' : '')}`);
    assert.deepEqual(topics, [
      '/tasks/create', '/tasks/start', '/tasks/paused', '/tasks/resumed', '/tasks/exec-addede1',
      '/tasks/exec-startede1', '/tasks/exit:e1', '/tasks/exit', '/tasks/delete',
    ]);
  });

  it('Shutdown with no task left ends the one server process', async () => {
    const pidFile = readdirSync(runDir).find((n) => n.endsWith('.pid'));
    assert.ok(pidFile, 'pid file');
    const serverPid = Number(readFileSync(join(runDir, pidFile), 'utf8'));
    assert.deepEqual(serverPids(runDir), [serverPid], 'only one server process');
    await task.shutdown({ id: 'c1', now: false }).catch(() => {});
    const deadline = Date.now() + 5000;
    while (alive(serverPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(serverPid), false);
  });
});

