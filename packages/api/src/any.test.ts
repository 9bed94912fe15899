import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isInvalidArgument, isNotFound, isAlreadyExists } from '@ctrd/errdefs';
import { TaskExit } from './gen/containerd/events/task.js';
import { ImageCreate } from './gen/containerd/events/image.js';
import { Envelope } from './gen/containerd/services/events/v1/events.js';
import { Options as RuncOptions } from './gen/containerd/runtime/v2/runc/options/oci.js';
import { packAny, unpackAny, unpackAnyAs } from './any.js';
import { TypeRegistry, typeRegistry } from './type-registry.js';
import { TypeUrls } from './type-urls.js';

test('packAny uses the bare full name as the type URL and unpackAny decodes it back', () => {
  const exit = { containerId: 'c1', id: 'c1', pid: 99, exitStatus: 1, exitedAt: { seconds: 10, nanos: 0 } };
  const any = packAny(TypeUrls.TaskExit, TaskExit, exit);
  assert.equal(any.typeUrl, 'containerd.events.TaskExit');
  assert.ok(Buffer.isBuffer(any.value));
  assert.deepEqual(any.value, Buffer.from(TaskExit.encode(exit).finish()));
  assert.deepEqual(unpackAny(any), exit);
  const typed = unpackAnyAs(any, TypeUrls.TaskExit);
  assert.equal(typed.pid, 99);
});

test('an Any nested in an event envelope survives encoding', () => {
  const event = packAny(TypeUrls.ImageCreate, ImageCreate, { name: 'docker.io/library/alpine:3', labels: { a: 'b' } });
  const env = Envelope.decode(
    Envelope.encode({ timestamp: { seconds: 5, nanos: 6 }, namespace: 'default', topic: '/images/create', event }).finish(),
  );
  assert.equal(env.event?.typeUrl, 'containerd.services.images.v1.ImageCreate');
  assert.deepEqual(unpackAny(env.event!), { name: 'docker.io/library/alpine:3', labels: { a: 'b' } });
});

test('unpackAny rejects an unknown type URL with NotFound, including the googleapis form', () => {
  assert.throws(() => unpackAny({ typeUrl: 'containerd.events.Nope', value: Buffer.alloc(0) }), (err) => {
    assert.ok(isNotFound(err));
    assert.match((err as Error).message, /type with url containerd\.events\.Nope/);
    return true;
  });
  assert.throws(
    () => unpackAny({ typeUrl: 'type.googleapis.com/containerd.events.TaskExit', value: Buffer.alloc(0) }),
    isNotFound,
  );
});

test('unpackAnyAs rejects an Any of another type with InvalidArgument', () => {
  const any = packAny(TypeUrls.RuncOptions, RuncOptions, RuncOptions.create({ binaryName: 'crun' }));
  assert.throws(() => unpackAnyAs(any, TypeUrls.TaskExit), isInvalidArgument);
  assert.equal(unpackAnyAs(any, TypeUrls.RuncOptions).binaryName, 'crun');
});

test('the default registry covers every generated message, nested ones included', () => {
  const names = typeRegistry.names();
  for (const url of Object.values(TypeUrls)) assert.ok(typeRegistry.has(url), url);
  for (const name of [
    'containerd.task.v2.StateResponse',
    'containerd.services.containers.v1.Container.Runtime',
    'containerd.events.ContainerCreate.Runtime',
    'containerd.services.events.ttrpc.v1.Envelope',
    'containerd.v1.types.ProcessInfo',
    'containerd.types.Descriptor',
    'io.containerd.cgroups.v2.MemoryEvents',
    'grpc.health.v1.HealthCheckResponse',
    'google.rpc.Status',
    'google.protobuf.Empty',
  ]) {
    assert.ok(typeRegistry.has(name), name);
  }
  // map entry messages are an encoding detail, not types anyone packs
  assert.ok(!names.some((n) => n.endsWith('.LabelsEntry')), 'no map-entry types');
});

test('every codec exported by a generated module is in the default registry', async () => {
  const genDir = fileURLToPath(new URL('./gen/', import.meta.url));
  const registered = new Set(typeRegistry.names().map((n) => typeRegistry.get(n)));
  const files = readdirSync(genDir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.js') && f !== 'registry.js',
  );
  assert.ok(files.length >= 30, `found ${files.length} generated modules`);
  let codecs = 0;
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(genDir, file)).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      const isCodec = typeof value === 'object' && value !== null && 'encode' in value && 'decode' in value && 'fromPartial' in value;
      // ts-proto names a map's entry message <Message>_<Field>Entry; the registry leaves those out.
      if (!isCodec || /_\w+Entry$/.test(name)) continue;
      codecs++;
      assert.ok(registered.has(value as never), `${file}: ${name} is not registered`);
    }
  }
  assert.equal(codecs, typeRegistry.names().length);
});

test('a private registry rejects a second codec under a taken name', () => {
  const reg = new TypeRegistry().register('x.Y', TaskExit);
  reg.register('x.Y', TaskExit);
  assert.throws(() => reg.register('x.Y', ImageCreate), isAlreadyExists);
  assert.deepEqual(unpackAny(packAny('x.Y', TaskExit, TaskExit.create({ pid: 3 })), reg), TaskExit.create({ pid: 3 }));
});
