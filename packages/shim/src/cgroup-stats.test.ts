import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics as V1Metrics } from '@ctrd/api/gen/containerd/cgroups/v1/metrics.js';
import { Metrics as V2Metrics } from '@ctrd/api/gen/containerd/cgroups/v2/metrics.js';
import { MAX_UINT64, resolveCgroup } from './cgroup-paths.js';
import { cgroupV1Stats } from './cgroup-v1-stats.js';
import { cgroupV2Stats, parseMemoryEvents } from './cgroup-v2-stats.js';
import { OomWatcher } from './oom-watcher.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const v1 = (c: string): string => join(fixtures, 'cgroup-v1', c);

describe('cgroup v1 stats', () => {
  it('reads pids, cpu, memory, oom control and blkio from fixture files', async () => {
    const m = await cgroupV1Stats({ memory: v1('memory'), cpuacct: v1('cpuacct'), cpu: v1('cpu'), pids: v1('pids'), blkio: v1('blkio') });
    assert.deepEqual(m.pids, { current: '2', limit: '0' });
    assert.deepEqual(m.cpu?.usage, { total: '1750000000', user: '1500000000', kernel: '250000000', perCpu: ['1000000000', '750000000'] });
    assert.deepEqual(m.cpu?.throttling, { periods: '10', throttledPeriods: '3', throttledTime: '123456' });
    assert.equal(m.memory?.rss, '823296');
    assert.equal(m.memory?.pgPgIn, '312');
    assert.equal(m.memory?.totalCache, '8192');
    assert.equal(m.memory?.hierarchicalSwapLimit, '9223372036854771712');
    assert.deepEqual(m.memory?.usage, { usage: '1040384', limit: '9223372036854771712', max: '2097152', failcnt: '0' });
    assert.equal(m.memory?.kernel?.usage, '65536');
    assert.deepEqual(m.memoryOomControl, { oomKillDisable: '0', underOom: '0', oomKill: '2' });
    assert.deepEqual(m.blkio?.ioServiceBytesRecursive.slice(0, 2), [
      { op: 'Read', device: '', major: '8', minor: '0', value: '4096' },
      { op: 'Write', device: '', major: '8', minor: '0', value: '8192' },
    ]);
    assert.equal(m.blkio?.ioServicedRecursive.length, 2);
    assert.deepEqual(V1Metrics.decode(V1Metrics.encode(m).finish()), m, 'survives the wire');
  });
});

describe('cgroup v2 stats', () => {
  it('reads cpu, memory, pids, io and memory.events from fixture files', async () => {
    const m = await cgroupV2Stats(join(fixtures, 'cgroup-v2'));
    assert.deepEqual(m.pids, { current: '3', limit: '100' });
    assert.equal(m.cpu?.usageUsec, '20000');
    assert.equal(m.cpu?.throttledUsec, '700');
    assert.equal(m.memory?.anon, '4096');
    assert.equal(m.memory?.kernelStack, '16384');
    assert.equal(m.memory?.usage, '28672');
    assert.equal(m.memory?.usageLimit, '104857600');
    assert.equal(m.memory?.swapLimit, MAX_UINT64);
    assert.deepEqual(m.io?.usage, [{ major: '8', minor: '0', rbytes: '1024', wbytes: '2048', rios: '1', wios: '2' }]);
    assert.deepEqual(m.memoryEvents, { low: '0', high: '0', max: '5', oom: '1', oomKill: '1' });
    assert.deepEqual(V2Metrics.decode(V2Metrics.encode(m).finish()), m);
  });

  it('parses memory.events with missing keys as zero', () => {
    assert.deepEqual(parseMemoryEvents('oom 2\noom_kill 7\n'), { low: '0', high: '0', max: '0', oom: '2', oomKill: '7' });
  });

  it('reports an OOM when memory.events oom_kill grows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctrd-oom-'));
    try {
      cpSync(join(fixtures, 'cgroup-v2'), dir, { recursive: true });
      const seen: string[] = [];
      const w = new OomWatcher((id) => seen.push(id));
      await w.addV2('c1', dir);
      appendFileSync(join(dir, 'memory.events'), 'max 6\n'); // not an OOM kill
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seen, []);
      appendFileSync(join(dir, 'memory.events'), 'oom_kill 2\n');
      const deadline = Date.now() + 2000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      w.close();
      assert.deepEqual(seen, ['c1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resolveCgroup', () => {
  const mountinfo = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');

  it('prefers v1 controllers when memory is on v1', () => {
    const loc = resolveCgroup('4:memory:/default/c1\n1:cpu:/default/c1\n0::/\n', mountinfo);
    assert.deepEqual(loc, { version: 1, dirs: { memory: '/sys/fs/cgroup/memory/default/c1', cpu: '/sys/fs/cgroup/cpu/default/c1' } });
  });

  it('uses the unified hierarchy on a v2-only host', () => {
    const loc = resolveCgroup('0::/default/c1\n', '50 1 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate');
    assert.deepEqual(loc, { version: 2, dir: '/sys/fs/cgroup/default/c1' });
  });
});
