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
 * measureRow runs one workload on the given daemons: setup on each, one warm-up sample on each,
 * `rounds` rounds taking one sample per daemon in the order given, teardown on each. The daemons'
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
      for (const d of daemons) {
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
