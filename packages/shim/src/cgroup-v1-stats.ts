import { type BlkIOEntry, Metrics, type MemoryEntry } from '@ctrd/api/gen/containerd/cgroups/v1/metrics.js';
import { parseFlatKeyed, parseUint, readCgroupFile } from './cgroup-paths.js';

/** USER_HZ is the tick rate of cpuacct.stat (fixed at 100 on Linux). */
const USER_HZ = 100n;

const MEMORY_STAT_KEYS: Record<string, string> = {
  cache: 'cache', rss: 'rss', rss_huge: 'rssHuge', mapped_file: 'mappedFile', dirty: 'dirty',
  writeback: 'writeback', pgpgin: 'pgPgIn', pgpgout: 'pgPgOut', pgfault: 'pgFault', pgmajfault: 'pgMajFault',
  inactive_anon: 'inactiveAnon', active_anon: 'activeAnon', inactive_file: 'inactiveFile',
  active_file: 'activeFile', unevictable: 'unevictable', hierarchical_memory_limit: 'hierarchicalMemoryLimit',
  hierarchical_memsw_limit: 'hierarchicalSwapLimit',
};

function memoryStatFields(stat: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, field] of Object.entries(MEMORY_STAT_KEYS)) {
    out[field] = stat.get(key) ?? '0';
    if (!key.startsWith('hierarchical')) {
      out[`total${field[0].toUpperCase()}${field.slice(1)}`] = stat.get(`total_${key}`) ?? '0';
    }
  }
  return out;
}

async function memoryEntry(dir: string, prefix: string): Promise<MemoryEntry> {
  const [usage, limit, max, failcnt] = await Promise.all(
    ['usage_in_bytes', 'limit_in_bytes', 'max_usage_in_bytes', 'failcnt'].map((f) => readCgroupFile(dir, `${prefix}${f}`)),
  );
  return { usage: parseUint(usage), limit: parseUint(limit), max: parseUint(max), failcnt: parseUint(failcnt) };
}

/** parseBlkio parses a blkio `*_recursive` file (`8:0 Read 4096` lines; the `Total` line is dropped). */
export function parseBlkio(text: string | undefined): BlkIOEntry[] {
  const out: BlkIOEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const parts = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(parts[0] ?? '');
    if (dev === null) continue;
    const [op, value] = parts.length === 3 ? [parts[1], parts[2]] : ['', parts[1]];
    out.push({ op, device: '', major: dev[1], minor: dev[2], value: value ?? '0' });
  }
  return out;
}

async function blkio(dir: string | undefined): Promise<Metrics['blkio']> {
  if (dir === undefined) return undefined;
  // Without CFQ/BFQ only the throttle files carry numbers, as containerd's cgroups library does.
  const read = async (name: string): Promise<BlkIOEntry[]> => {
    const direct = await readCgroupFile(dir, `blkio.${name}`);
    return parseBlkio(direct ?? (await readCgroupFile(dir, `blkio.throttle.${name}`)));
  };
  const names = ['io_service_bytes_recursive', 'io_serviced_recursive', 'io_queued_recursive',
    'io_service_time_recursive', 'io_wait_time_recursive', 'io_merged_recursive', 'io_time_recursive', 'sectors_recursive'];
  const [b, s, q, st, w, m, t, sec] = await Promise.all(names.map((n) => read(n)));
  return {
    ioServiceBytesRecursive: b, ioServicedRecursive: s, ioQueuedRecursive: q, ioServiceTimeRecursive: st,
    ioWaitTimeRecursive: w, ioMergedRecursive: m, ioTimeRecursive: t, sectorsRecursive: sec,
  };
}

/**
 * cgroupV1Stats reads a cgroup v1 container's pids, cpu, memory, OOM control and blkio files
 * (`dirs` maps controller → directory) into `io.containerd.cgroups.v1.Metrics`; controllers
 * that are missing are left out.
 */
export async function cgroupV1Stats(dirs: Readonly<Record<string, string>>): Promise<Metrics> {
  const metrics = Metrics.fromPartial({});
  const pidsDir = dirs.pids;
  if (pidsDir !== undefined) {
    metrics.pids = {
      current: parseUint(await readCgroupFile(pidsDir, 'pids.current')),
      limit: parseUint(await readCgroupFile(pidsDir, 'pids.max')).replace(/^18446744073709551615$/, '0'),
    };
  }
  const acct = dirs.cpuacct;
  const cpuDir = dirs.cpu;
  if (acct !== undefined || cpuDir !== undefined) {
    const stat = parseFlatKeyed(await readCgroupFile(acct, 'cpuacct.stat'));
    const ticks = (k: string): string => ((BigInt(stat.get(k) ?? '0') * 1_000_000_000n) / USER_HZ).toString();
    const percpu = ((await readCgroupFile(acct, 'cpuacct.usage_percpu')) ?? '').trim().split(/\s+/).filter(Boolean);
    const throttle = parseFlatKeyed(await readCgroupFile(cpuDir, 'cpu.stat'));
    metrics.cpu = {
      usage: {
        total: parseUint(await readCgroupFile(acct, 'cpuacct.usage')),
        user: ticks('user'),
        kernel: ticks('system'),
        perCpu: percpu,
      },
      throttling: {
        periods: throttle.get('nr_periods') ?? '0',
        throttledPeriods: throttle.get('nr_throttled') ?? '0',
        throttledTime: throttle.get('throttled_time') ?? '0',
      },
    };
  }
  const mem = dirs.memory;
  if (mem !== undefined) {
    const stat = parseFlatKeyed(await readCgroupFile(mem, 'memory.stat'));
    metrics.memory = {
      ...(memoryStatFields(stat) as unknown as NonNullable<Metrics['memory']>),
      usage: await memoryEntry(mem, 'memory.'),
      swap: await memoryEntry(mem, 'memory.memsw.'),
      kernel: await memoryEntry(mem, 'memory.kmem.'),
      kernelTcp: await memoryEntry(mem, 'memory.kmem.tcp.'),
    };
    const oom = parseFlatKeyed(await readCgroupFile(mem, 'memory.oom_control'));
    metrics.memoryOomControl = {
      oomKillDisable: oom.get('oom_kill_disable') ?? '0',
      underOom: oom.get('under_oom') ?? '0',
      oomKill: oom.get('oom_kill') ?? '0',
    };
  }
  metrics.blkio = await blkio(dirs.blkio);
  return metrics;
}
