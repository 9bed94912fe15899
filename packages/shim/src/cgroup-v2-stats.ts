import { type IOEntry, Metrics, type MemoryEvents } from '@ctrd/api/gen/containerd/cgroups/v2/metrics.js';
import { parseFlatKeyed, parseUint, readCgroupFile } from './cgroup-paths.js';

const MEMORY_STAT_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback',
  'anon_thp', 'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable',
  'slab_reclaimable', 'slab_unreclaimable', 'pgfault', 'pgmajfault', 'workingset_refault',
  'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan', 'pgsteal', 'pgactivate',
  'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** parseMemoryEvents parses cgroup v2 `memory.events` (`low`, `high`, `max`, `oom`, `oom_kill`). */
export function parseMemoryEvents(text: string | undefined): MemoryEvents {
  const m = parseFlatKeyed(text);
  return {
    low: m.get('low') ?? '0',
    high: m.get('high') ?? '0',
    max: m.get('max') ?? '0',
    oom: m.get('oom') ?? '0',
    oomKill: m.get('oom_kill') ?? '0',
  };
}

/** parseIoStat parses cgroup v2 `io.stat` lines (`8:0 rbytes=1 wbytes=2 rios=3 wios=4 …`). */
export function parseIoStat(text: string | undefined): IOEntry[] {
  const out: IOEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (m === null) continue;
    const kv = new Map(pairs.map((p) => p.split('=') as [string, string]));
    out.push({
      major: m[1], minor: m[2], rbytes: kv.get('rbytes') ?? '0', wbytes: kv.get('wbytes') ?? '0',
      rios: kv.get('rios') ?? '0', wios: kv.get('wios') ?? '0',
    });
  }
  return out;
}

/**
 * cgroupV2Stats reads a cgroup v2 directory's pids, cpu, memory, io and memory.events files into
 * `io.containerd.cgroups.v2.Metrics`; a `max` limit reads as 2^64-1.
 */
export async function cgroupV2Stats(dir: string): Promise<Metrics> {
  const read = (f: string): Promise<string | undefined> => readCgroupFile(dir, f);
  const [pidsCur, pidsMax, cpuStat, memStat, memCur, memMax, swapCur, swapMax, io, events] = await Promise.all(
    ['pids.current', 'pids.max', 'cpu.stat', 'memory.stat', 'memory.current', 'memory.max',
      'memory.swap.current', 'memory.swap.max', 'io.stat', 'memory.events'].map(read),
  );
  const metrics = Metrics.fromPartial({});
  if (pidsCur !== undefined) metrics.pids = { current: parseUint(pidsCur), limit: parseUint(pidsMax) };
  if (cpuStat !== undefined) {
    const c = parseFlatKeyed(cpuStat);
    metrics.cpu = {
      usageUsec: c.get('usage_usec') ?? '0', userUsec: c.get('user_usec') ?? '0',
      systemUsec: c.get('system_usec') ?? '0', nrPeriods: c.get('nr_periods') ?? '0',
      nrThrottled: c.get('nr_throttled') ?? '0', throttledUsec: c.get('throttled_usec') ?? '0',
    };
  }
  if (memStat !== undefined || memCur !== undefined) {
    const s = parseFlatKeyed(memStat);
    const fields: Record<string, string> = {};
    for (const k of MEMORY_STAT_KEYS) fields[camel(k)] = s.get(k) ?? '0';
    metrics.memory = {
      ...(fields as unknown as NonNullable<Metrics['memory']>),
      usage: parseUint(memCur), usageLimit: parseUint(memMax),
      swapUsage: parseUint(swapCur), swapLimit: parseUint(swapMax),
    };
  }
  if (io !== undefined) metrics.io = { usage: parseIoStat(io) };
  if (events !== undefined) metrics.memoryEvents = parseMemoryEvents(events);
  return metrics;
}
