import { withCpu } from './cpu.js';
import type { BenchDaemon } from './daemons.js';
import { finishRow, type RowCpu, type RowResult } from './stats.js';
import type { BenchContext, Workload } from './workloads.js';

/** cpuPids lists the processes whose CPU time a sample of `scope` counts on `d`. */
export function cpuPids(d: BenchDaemon, scope: RowCpu['scope']): number[] {
  const pids = d.pid === undefined ? [] : [d.pid];
  return scope === 'daemon+shims' ? [...pids, ...d.shimPids()] : pids;
}

/**
 * roundOrder is the order of round `n` (from 1): the daemons as given in odd rounds, reversed in
 * even ones. What a sample leaves running as it returns (containerd's shim runs `containerd
 * publish` for each event, a daemon its clean-up) weighs on the sample after it: `runc exec` by
 * hand into each daemon's container, 150 pairs, took 1.1–1.5 ms longer in the second place of a
 * pair whichever daemon held it. Each daemon goes second in half of the rounds.
 */
export function roundOrder<T>(daemons: readonly T[], n: number): readonly T[] {
  return n % 2 === 1 ? daemons : [...daemons].reverse();
}

/**
 * measureRow runs one workload on the given daemons: setup on each, one warm-up sample on each,
 * `rounds` rounds taking one sample per daemon (see {@link roundOrder}), teardown on each. The daemons'
 * CPU time is read around every sample unless the workload opts out. A failure is recorded in
 * the row's `error`; the samples taken until then are kept. With one daemon the other column
 * stays empty.
 */
export async function measureRow(w: Workload, daemons: readonly BenchDaemon[], ctx: BenchContext, rounds: number, log: (msg: string) => void): Promise<RowResult> {
  const scope = w.cpu === false ? undefined : (w.cpu ?? 'daemon');
  const row: Parameters<typeof finishRow>[0] = { id: w.id, title: w.title, unit: w.unit, detail: '', containerd: [], ctrd: [] };
  const cpu: Omit<RowCpu, 'summary'> | undefined = scope ? { scope, containerd: [], ctrd: [] } : undefined;
  try {
    for (const d of daemons) await w.setup?.(d, ctx);
    for (const d of daemons) await w.sample(d, ctx, 0);
    for (let n = 1; n <= rounds; n++) {
      for (const d of roundOrder(daemons, n)) {
        if (!cpu) {
          row[d.kind].push(await w.sample(d, ctx, n));
          continue;
        }
        const { value, cpuMs } = await withCpu(() => cpuPids(d, cpu.scope), () => w.sample(d, ctx, n));
        row[d.kind].push(value);
        cpu[d.kind].push(cpuMs);
      }
    }
  } catch (err) {
    row.error = (err as Error).message;
    log(`${w.id} failed: ${row.error}`);
  } finally {
    for (const d of daemons) {
      try {
        await w.teardown?.(d, ctx);
      } catch (err) {
        log(`${w.id} teardown on ${d.kind}: ${(err as Error).message}`);
      }
    }
  }
  // Some details name what the samples found (process counts), so they are read afterwards.
  row.detail = w.detail(ctx);
  return finishRow(cpu ? { ...row, cpu } : row);
}
