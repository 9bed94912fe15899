import { withCpu } from './cpu.js';
import type { BenchDaemon } from './daemons.js';
import { finishRow, summarize, type RowCpu, type RowResult } from './stats.js';
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
 * `rounds` rounds, teardown on each. A round takes `samplesPerRound` samples (1 unless the
 * workload says) from each daemon in alternating pairs (each pair ordered by {@link roundOrder},
 * numbered across rounds) and keeps each daemon's median. The daemons' CPU time is read around
 * every sample unless the workload opts out, a round keeping its median too. A failure is
 * recorded in the row's `error`; the rounds completed until then are kept. With one daemon the
 * other column stays empty.
 */
export async function measureRow(w: Workload, daemons: readonly BenchDaemon[], ctx: BenchContext, rounds: number, log: (msg: string) => void): Promise<RowResult> {
  const scope = w.cpu === false ? undefined : (w.cpu ?? 'daemon');
  const k = w.samplesPerRound ?? 1;
  const row: Parameters<typeof finishRow>[0] = { id: w.id, title: w.title, unit: w.unit, detail: '', containerd: [], ctrd: [] };
  const cpu: Omit<RowCpu, 'summary'> | undefined = scope ? { scope, containerd: [], ctrd: [] } : undefined;
  try {
    for (const d of daemons) await w.setup?.(d, ctx);
    for (const d of daemons) await w.sample(d, ctx, 0);
    for (let n = 1; n <= rounds; n++) {
      const values = new Map(daemons.map((d) => [d.kind, [] as number[]]));
      const cpuMs = new Map(daemons.map((d) => [d.kind, [] as number[]]));
      for (let j = 0; j < k; j++) {
        // Numbered across rounds, so that every sample has its own number (exec ids, container names).
        const pair = (n - 1) * k + j + 1;
        for (const d of roundOrder(daemons, pair)) {
          if (!cpu) {
            values.get(d.kind)!.push(await w.sample(d, ctx, pair));
            continue;
          }
          const s = await withCpu(() => cpuPids(d, cpu.scope), () => w.sample(d, ctx, pair));
          values.get(d.kind)!.push(s.value);
          cpuMs.get(d.kind)!.push(s.cpuMs);
        }
      }
      for (const d of daemons) {
        row[d.kind].push(summarize(values.get(d.kind)!).median);
        if (cpu) cpu[d.kind].push(summarize(cpuMs.get(d.kind)!).median);
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
  row.detail = w.detail(ctx) + (k > 1 ? `; a round: the median of ${k} samples` : '');
  return finishRow(cpu ? { ...row, cpu } : row);
}
