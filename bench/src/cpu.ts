import { readdirSync, readFileSync } from 'node:fs';

/** CLOCK_TICKS is the kernel's USER_HZ, the unit of utime and stime in `/proc/<pid>/stat` (100 on Linux). */
export const CLOCK_TICKS = 100;

/**
 * parseStatTicks returns utime + stime (fields 14 and 15) of one `/proc/<pid>/stat` line. The
 * command name (field 2) may hold spaces and parentheses, so the fields are counted from the
 * last `)`.
 */
export function parseStatTicks(stat: string): number {
  const end = stat.lastIndexOf(')');
  if (end < 0) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 60)}`);
  // After ") " the fields start at field 3 (state); utime is field 14, stime field 15.
  const fields = stat.slice(end + 2).trim().split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`no utime/stime in: ${stat.slice(0, 60)}`);
  return utime + stime;
}

/** cpuMs reads the CPU time (user + system, all threads) a process has used so far in ms, undefined when it is gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    return (parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * threadsCpuMs sums the time every thread of `pid` has run, from `/proc/<pid>/task/<tid>/schedstat`
 * (nanoseconds, where {@link cpuMs} counts 10 ms ticks), in ms; undefined when it is gone.
 * Threads that ended earlier are not counted.
 */
export function threadsCpuMs(pid: number): number | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended since the listing
    }
  }
  return ns / 1e6;
}

/** CpuSnapshot is the CPU time of some processes at one moment, by pid. */
export type CpuSnapshot = Map<number, number>;

/** snapshotCpu reads {@link cpuMs} of every pid still alive. */
export function snapshotCpu(pids: readonly number[]): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const pid of pids) {
    const ms = cpuMs(pid);
    if (ms !== undefined) snap.set(pid, ms);
  }
  return snap;
}

/**
 * cpuDelta is the CPU time used between two snapshots: for a pid in both the difference, for a
 * pid only in `after` (started meanwhile) all of it; a process gone by `after` is not counted,
 * its last reading being lost with it.
 */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

/** withCpu runs `fn` and measures the CPU time the processes `pids()` lists (read before and after) used meanwhile. */
export async function withCpu<T>(pids: () => number[], fn: () => Promise<T> | T): Promise<{ value: T; cpuMs: number }> {
  const before = snapshotCpu(pids());
  const value = await fn();
  return { value, cpuMs: cpuDelta(before, snapshotCpu(pids())) };
}
