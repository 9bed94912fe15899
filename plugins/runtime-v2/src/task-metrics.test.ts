import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics as V1Metrics } from '@ctrd/api/gen/containerd/cgroups/v1/metrics.js';
import { Metrics as V2Metrics } from '@ctrd/api/gen/containerd/cgroups/v2/metrics.js';
import type { PlatformRuntime, Task } from '@ctrd/runtime';
import { collectTaskMetrics, containerUsage } from './task-metrics.js';

const v1 = {
  typeUrl: 'io.containerd.cgroups.v1.Metrics',
  value: V1Metrics.encode(
    V1Metrics.fromPartial({
      memory: { usage: { usage: '4096', limit: '1048576' } },
      cpu: { usage: { total: '123456789' } },
      pids: { current: '3' },
    }),
  ).finish(),
};
const v2 = {
  typeUrl: 'io.containerd.cgroups.v2.Metrics',
  value: V2Metrics.encode(V2Metrics.fromPartial({ memory: { usage: '8192', usageLimit: '65536' }, cpu: { usageUsec: '250' }, pids: { current: '2' } })).finish(),
};

test('containerUsage reads cgroup v1 and v2 statistics in the same units', () => {
  assert.deepEqual(containerUsage(v1), { memoryBytes: 4096, memoryLimitBytes: 1048576, cpuNanoseconds: 123456789, pids: 3 });
  assert.deepEqual(containerUsage(v2), { memoryBytes: 8192, memoryLimitBytes: 65536, cpuNanoseconds: 250_000, pids: 2 });
  assert.equal(containerUsage({ typeUrl: 'other', value: new Uint8Array() }), undefined);
  assert.equal(containerUsage(undefined), undefined);
});

test('collectTaskMetrics counts tasks by status and reports running containers only', async () => {
  const task = (id: string, namespace: string, status: string, stats = v1) =>
    ({ id, namespace, runtime: 'io.containerd.ctrd.v1', state: async () => ({ status }), stats: async () => stats }) as unknown as Task;
  const gone = { id: 'gone', namespace: 'a', runtime: 'r', state: async () => Promise.reject(new Error('gone')) } as unknown as Task;
  const runtime = { tasks: async () => [task('web', 'a', 'running'), task('db', 'a', 'running', v2), task('old', 'a', 'stopped'), task('x', 'b', 'created'), gone] } as unknown as PlatformRuntime;
  const fams = new Map((await collectTaskMetrics(runtime)).map((f) => [f.name, f]));
  const count = (ns: string, status: string) => fams.get('tasks')!.samples.find((s) => s.labels?.namespace === ns && s.labels?.status === status)?.value;
  assert.equal(count('a', 'running'), 2);
  assert.equal(count('a', 'stopped'), 1);
  assert.equal(count('b', 'created'), 1);
  const mem = fams.get('container_memory_usage_bytes')!.samples;
  assert.deepEqual(mem.map((s) => [s.labels?.container_id, s.value]), [['web', 4096], ['db', 8192]]);
  assert.equal(fams.get('container_pids_current')!.samples.length, 2);
});
