import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SpecTypeUrls } from '@ctrd/api';
import { TasksClient } from '@ctrd/api/gen/containerd/services/tasks/v1/tasks.js';
import { Status } from '@ctrd/api/gen/containerd/types/task/task.js';
import { NotFoundError } from '@ctrd/errdefs';
import { fromServiceError } from '@ctrd/grpc';
import type { Container } from '@ctrd/metadata';
import { EventsDefinition } from '@ctrd/api/gen/containerd/services/ttrpc/events/v1/events.js';
import { registerService, TtrpcServer } from '@ctrd/ttrpc';
import { TaskManager } from './task-manager.js';
import { tasksService } from './tasks-service.js';
import { containerSkipReason, fixture } from './testing.js';

const NS = `rtv2s-${process.pid}`;

function container(id: string, spec: Uint8Array): Container {
  return {
    id,
    labels: {},
    image: '',
    runtime: { name: 'io.containerd.runc.v2' },
    spec: { typeUrl: SpecTypeUrls.Spec, value: spec },
    snapshotter: '',
    snapshotKey: '',
    createdAt: new Date(),
    updatedAt: new Date(),
    extensions: {},
  };
}

test('the Tasks service drives a container through its lifecycle', { timeout: 60_000 }, async (t) => {
  const reason = containerSkipReason();
  if (reason) return t.skip(reason);
  const fx = fixture();
  const sockDir = await mkdtemp(join(tmpdir(), 'rtv2-grpc-'));
  const containers = new Map<string, Container>();
  containers.set('svc', container('svc', fx.spec(['/bin/sh', '-c', 'sleep 1000; exit 5'])));
  // The runc shim lingers after Shutdown while it still has events it could not forward.
  const events = new TtrpcServer();
  registerService(events, EventsDefinition, { forward: async () => ({}) });
  await events.listen(join(sockDir, 'c.sock.ttrpc'));
  const manager = new TaskManager({
    stateDir: fx.stateDir,
    rootDir: fx.rootDir,
    address: join(sockDir, 'c.sock'),
    ttrpcAddress: join(sockDir, 'c.sock.ttrpc'),
    shimDirs: [],
  });
  const service = tasksService({
    runtime: manager,
    containers: {
      async get(_ns, id) {
        const c = containers.get(id);
        if (!c) throw new NotFoundError(`container "${id}"`);
        return c;
      },
    },
    defaultRuntime: 'io.containerd.runc.v2',
  });
  const server = new grpc.Server();
  server.addService(service.definition, service.implementation);
  const sock = join(sockDir, 'tasks.sock');
  await new Promise<void>((res, rej) => server.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  const client = new TasksClient(`unix://${sock}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('containerd-namespace', NS);
  t.after(async () => {
    for (const task of await manager.tasks(NS)) {
      await task.kill(9, true).catch(() => {});
      await manager.delete(NS, task.id).catch(() => {});
    }
    await manager.close();
    client.close();
    server.forceShutdown();
    await events.close({ timeoutMs: 1000 });
    fx.dispose(NS);
    await rm(sockDir, { recursive: true, force: true });
  });
  const call = <Req, Res>(method: string, req: Req): Promise<Res> =>
    new Promise((resolve, reject) =>
      (client as unknown as Record<string, Function>)[method]!.call(client, req, md, (err: unknown, res: Res) =>
        err ? reject(fromServiceError(err)) : resolve(res),
      ),
    );
  const rootfs = [{ type: 'bind', source: fx.rootfs, target: '', options: ['rbind', 'rw'] }];
  const createReq = { containerId: 'svc', rootfs, stdin: '', stdout: '', stderr: '', terminal: false, runtimePath: '' };

  await assert.rejects(call('create', { ...createReq, containerId: 'nope' }), /container "nope"/);
  const created = await call<unknown, { containerId: string; pid: number }>('create', createReq);
  assert.equal(created.containerId, 'svc');
  assert.ok(created.pid > 0);
  await assert.rejects(call('create', createReq), (err: Error) => err.name === 'AlreadyExistsError' && /task svc/.test(err.message));

  const got = await call<unknown, { process: { id: string; status: Status; pid: number } }>('get', { containerId: 'svc', execId: '' });
  assert.equal(got.process.status, Status.CREATED);
  assert.equal(got.process.id, 'svc');
  assert.equal(got.process.pid, created.pid);
  // The container is looked up beside the task's state: its absence still decides the answer.
  const saved = containers.get('svc')!;
  containers.delete('svc');
  await assert.rejects(call('get', { containerId: 'svc', execId: '' }), (err: Error) => err.name === 'NotFoundError' && /container "svc"/.test(err.message));
  containers.set('svc', saved);

  const started = await call<unknown, { pid: number }>('start', { containerId: 'svc', execId: '' });
  assert.equal(started.pid, created.pid);
  const listed = await call<unknown, { tasks: { id: string; status: Status }[] }>('list', { filter: '' });
  assert.deepEqual(listed.tasks.map((x) => [x.id, x.status]), [['svc', Status.RUNNING]]);
  const pids = await call<unknown, { processes: { pid: number }[] }>('listPids', { containerId: 'svc' });
  assert.ok(pids.processes.some((p) => p.pid === created.pid));
  const metrics = await call<unknown, { metrics: { id: string }[] }>('metrics', { filters: [`id==svc`] });
  assert.deepEqual(metrics.metrics.map((m) => m.id), ['svc']);
  await assert.rejects(call('exec', { containerId: 'svc', execId: '', stdin: '', stdout: '', stderr: '', terminal: false }), /exec id cannot be empty/);
  await assert.rejects(call('get', { containerId: 'svc', execId: 'ghost' }), (err: Error) => err.name === 'NotFoundError');

  const waiting = call<unknown, { exitStatus: number }>('wait', { containerId: 'svc', execId: '' });
  await call('kill', { containerId: 'svc', execId: '', signal: 9, all: false });
  assert.equal((await waiting).exitStatus, 137);
  const deleted = await call<unknown, { exitStatus: number; pid: number }>('delete', { containerId: 'svc' });
  assert.equal(deleted.exitStatus, 137);
  assert.equal(deleted.pid, created.pid);
  await assert.rejects(call('get', { containerId: 'svc', execId: '' }), (err: Error) => err.name === 'NotFoundError' && /task svc/.test(err.message));
  await assert.rejects(call('delete', { containerId: 'svc' }), (err: Error) => err.name === 'NotFoundError');
});
