import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SpecTypeUrls } from '@ctrd/api';
import { TasksClient } from '@ctrd/api/gen/containerd/services/tasks/v1/tasks.js';
import type { ContentStore } from '@ctrd/content';
import { NotFoundError } from '@ctrd/errdefs';
import { fromServiceError } from '@ctrd/grpc';
import type { Container } from '@ctrd/metadata';
import type { CreateOpts, Exit, PlatformRuntime, Task } from '@ctrd/runtime';
import { CHECKPOINT_MEDIA_TYPES } from './checkpoint.js';
import { tarDirectory } from './tar.js';
import { tasksService } from './tasks-service.js';

/** What the stand-in runtime saw: the checkpoint directory it was given and what it held at start. */
interface Seen {
  checkpoint?: string;
  atStart?: string;
}

/** standIn is a runtime whose tasks only record calls; `start` reads the checkpoint as a shim's restore would. */
function standIn(seen: Map<string, Seen>): PlatformRuntime {
  const tasks = new Map<string, Task>();
  const exit: Exit = { pid: 42, status: 0, exitedAt: new Date() };
  return {
    id: 'io.containerd.runtime.v2.task',
    async create(namespace: string, id: string, opts: CreateOpts) {
      const s: Seen = { checkpoint: opts.checkpoint };
      seen.set(id, s);
      const task = {
        id,
        namespace,
        runtime: opts.runtime,
        bundle: '',
        pid: async () => 42,
        start: async () => {
          if (s.checkpoint !== undefined) s.atStart = readFileSync(join(s.checkpoint, 'inventory.img'), 'utf8');
          return 42;
        },
      } as unknown as Task;
      tasks.set(`${namespace}/${id}`, task);
      return task;
    },
    async get(namespace: string, id: string) {
      const t = tasks.get(`${namespace}/${id}`);
      if (t === undefined) throw new NotFoundError(`task ${id}`);
      return t;
    },
    async tasks() {
      return [...tasks.values()];
    },
    async delete(namespace: string, id: string) {
      tasks.delete(`${namespace}/${id}`);
      return exit;
    },
  };
}

/** memoryContent serves one blob, enough for `readBlob`. */
function memoryContent(digest: string, data: Uint8Array): ContentStore {
  return {
    async readerAt(desc: { digest: string }) {
      if (desc.digest !== digest) throw new NotFoundError(`content digest ${desc.digest}`);
      return {
        size: data.length,
        async readAt(buf: Uint8Array, offset: number) {
          const part = data.subarray(offset, offset + buf.length);
          buf.set(part);
          return part.length;
        },
        async close() {},
      };
    },
  } as unknown as ContentStore;
}

test('a checkpoint restored from content stays on disk until the task starts or is deleted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rtv2-restore-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const image = join(dir, 'image');
  await mkdir(image);
  await writeFile(join(image, 'inventory.img'), 'criu image');
  const tar = await tarDirectory(image);
  const digest = `sha256:${createHash('sha256').update(tar).digest('hex')}`;

  const seen = new Map<string, Seen>();
  const spec = { typeUrl: SpecTypeUrls.Spec, value: new TextEncoder().encode('{}') };
  const container = (id: string): Container => ({
    id, labels: {}, image: '', runtime: { name: 'io.containerd.runc.v2' }, spec, snapshotter: '', snapshotKey: '',
    createdAt: new Date(), updatedAt: new Date(), extensions: {},
  });
  const service = tasksService({
    runtime: standIn(seen),
    containers: { get: async (_ns, id) => container(id) },
    content: () => memoryContent(digest, tar),
    defaultRuntime: 'io.containerd.runc.v2',
  });
  const server = new grpc.Server();
  server.addService(service.definition, service.implementation);
  const sock = join(dir, 'tasks.sock');
  await new Promise<void>((res, rej) => server.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  const client = new TasksClient(`unix://${sock}`, grpc.credentials.createInsecure());
  t.after(() => {
    client.close();
    server.forceShutdown();
  });
  const md = new grpc.Metadata();
  md.set('containerd-namespace', 'restore');
  const call = <Res>(method: string, req: unknown): Promise<Res> =>
    new Promise((resolve, reject) =>
      (client as unknown as Record<string, Function>)[method]!.call(client, req, md, (err: unknown, res: Res) => (err ? reject(fromServiceError(err)) : resolve(res))),
    );
  const checkpoint = { mediaType: CHECKPOINT_MEDIA_TYPES.criu, digest, size: tar.length, annotations: {} };
  const create = (id: string) => call('create', { containerId: id, rootfs: [], stdin: '', stdout: '', stderr: '', terminal: false, runtimePath: '', checkpoint });

  // Created, then started: the shim restores at start, from the unpacked image.
  await create('started');
  const started = seen.get('started')!;
  assert.ok(started.checkpoint !== undefined && existsSync(join(started.checkpoint, 'inventory.img')), 'the image is there after Create');
  await call('start', { containerId: 'started', execId: '' });
  assert.equal(started.atStart, 'criu image', 'and still there when the task starts');
  assert.equal(existsSync(started.checkpoint), false, 'then it is removed');

  // Created, then deleted without a start.
  await create('deleted');
  const deleted = seen.get('deleted')!;
  assert.ok(deleted.checkpoint !== undefined && existsSync(deleted.checkpoint));
  await call('delete', { containerId: 'deleted' });
  assert.equal(existsSync(deleted.checkpoint), false, 'a task deleted before it started leaves no image behind');

  // A checkpoint of another media type is refused before anything is created.
  await assert.rejects(
    call('create', { containerId: 'bad', rootfs: [], stdin: '', stdout: '', stderr: '', terminal: false, runtimePath: '', checkpoint: { ...checkpoint, mediaType: 'application/octet-stream' } }),
    (err: Error) => err.name === 'InvalidArgumentError',
  );
  assert.equal(seen.has('bad'), false);
});
