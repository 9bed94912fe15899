import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics as CgroupsV1Metrics } from './gen/containerd/cgroups/v1/metrics.js';
import { TaskExit } from './gen/containerd/events/task.js';
import { Container, UpdateContainerRequest } from './gen/containerd/services/containers/v1/containers.js';
import { ContentService, WriteAction, WriteContentRequest } from './gen/containerd/services/content/v1/content.js';
import { VersionResponse, VersionService } from './gen/containerd/services/version/v1/version.js';
import { Options as RuncOptions } from './gen/containerd/runtime/v2/runc/options/oci.js';
import { StateResponse, TaskDefinition } from './gen/containerd/runtime/v2/task/shim.js';
import { Status } from './gen/containerd/types/task/task.js';
import { packAny } from './any.js';
import { GO_ZERO_TIMESTAMP } from './timestamp.js';
import { SpecTypeUrls, TypeUrls } from './type-urls.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('VersionResponse encodes to the bytes protobuf specifies', () => {
  const bytes = VersionResponse.encode({ version: '1.6.20', revision: 'x' }).finish();
  // field 1, wire type 2 (0x0a), length 6, "1.6.20"; field 2 (0x12), length 1, "x"
  assert.equal(hex(bytes), '0a06' + Buffer.from('1.6.20').toString('hex') + '120178');
  assert.deepEqual(VersionResponse.decode(bytes), { version: '1.6.20', revision: 'x' });
});

test('a Container with labels, Any spec, extensions and times survives a round trip', () => {
  const spec = { typeUrl: SpecTypeUrls.Spec, value: Buffer.from('{"ociVersion":"1.0.2"}') };
  const container = Container.create({
    id: 'redis',
    labels: { 'io.example/role': 'db', empty: '' },
    image: 'docker.io/library/redis:7',
    runtime: { name: 'io.containerd.runc.v2', options: packAny(TypeUrls.RuncOptions, RuncOptions, RuncOptions.create({ systemdCgroup: true })) },
    spec,
    snapshotter: 'overlayfs',
    snapshotKey: 'redis',
    createdAt: { seconds: 1_700_000_000, nanos: 123_456_789 },
    updatedAt: GO_ZERO_TIMESTAMP,
    extensions: { note: { typeUrl: 'x', value: Buffer.from([1, 2, 3]) } },
  });
  const decoded = Container.decode(Container.encode(container).finish());
  assert.deepEqual(decoded, container);
  assert.equal(decoded.updatedAt?.seconds, -62135596800);
  assert.equal(decoded.spec?.value.toString(), '{"ociVersion":"1.0.2"}');
  assert.equal(RuncOptions.decode(decoded.runtime!.options!.value).systemdCgroup, true);
});

test('an update mask travels as a list of paths', () => {
  const req = { container: Container.create({ id: 'c' }), updateMask: ['labels.a.b', 'image'] };
  const decoded = UpdateContainerRequest.decode(UpdateContainerRequest.encode(req).finish());
  assert.deepEqual(decoded.updateMask, ['labels.a.b', 'image']);
});

test('WriteContentRequest keeps bytes, int64 offsets and the enum action', () => {
  const req = WriteContentRequest.create({
    action: WriteAction.COMMIT,
    ref: 'ingest-1',
    total: 2 ** 40,
    expected: 'sha256:' + 'ab'.repeat(32),
    offset: 2 ** 40 - 3,
    data: Buffer.from('xyz'),
    labels: { 'containerd.io/gc.root': 'now' },
  });
  const decoded = WriteContentRequest.decode(WriteContentRequest.encode(req).finish());
  assert.deepEqual(decoded, req);
  assert.equal(decoded.action, 2);
});

test('TaskExit and StateResponse round-trip with timestamps and enum status', () => {
  const exit = { containerId: 'c1', id: 'c1', pid: 4242, exitStatus: 137, exitedAt: { seconds: 1, nanos: 5 } };
  assert.deepEqual(TaskExit.decode(TaskExit.encode(exit).finish()), exit);
  const state = StateResponse.create({ id: 'c1', pid: 7, status: Status.RUNNING, exitedAt: GO_ZERO_TIMESTAMP });
  const decoded = StateResponse.decode(StateResponse.encode(state).finish());
  assert.equal(decoded.status, Status.RUNNING);
  assert.deepEqual(decoded.exitedAt, { seconds: -62135596800, nanos: 0 });
});

test('cgroup v1 metrics keep uint64 values beyond 2^53 as decimal strings', () => {
  const unlimited = '9223372036854771712';
  const m = CgroupsV1Metrics.create({
    memory: { hierarchicalMemoryLimit: unlimited, usage: { limit: unlimited, usage: '1048576' } },
    cpu: { usage: { total: '18446744073709551615', perCpu: ['1', '2'] } },
  });
  const decoded = CgroupsV1Metrics.decode(CgroupsV1Metrics.encode(m).finish());
  assert.equal(decoded.memory?.hierarchicalMemoryLimit, unlimited);
  assert.equal(decoded.memory?.usage?.limit, unlimited);
  assert.equal(decoded.cpu?.usage?.total, '18446744073709551615');
  assert.deepEqual(decoded.cpu?.usage?.perCpu, ['1', '2']);
});

test('service definitions carry containerd\'s method paths and streaming shapes', () => {
  assert.equal(VersionService.version.path, '/containerd.services.version.v1.Version/Version');
  assert.equal(ContentService.write.path, '/containerd.services.content.v1.Content/Write');
  assert.equal(ContentService.write.requestStream, true);
  assert.equal(ContentService.write.responseStream, true);
  assert.equal(ContentService.read.requestStream, false);
  assert.equal(ContentService.read.responseStream, true);
  assert.equal(TaskDefinition.fullName, 'containerd.task.v2.Task');
  assert.equal(TaskDefinition.methods.connect.name, 'Connect');
});
