import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** CpuProfile is the part of a V8 `.cpuprofile` (as `node --cpu-prof` writes it) that self time needs. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** SelfTime is the sampled time spent in one function itself (not in what it called). */
export interface SelfTime {
  /** `functionName url:line` (line 1-based), `(anonymous)` for unnamed functions. */
  name: string;
  ms: number;
}

function frameName(f: CpuProfile['nodes'][number]['callFrame']): string {
  const fn = f.functionName || '(anonymous)';
  if (!f.url) return fn;
  return `${fn} ${f.url.replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;
}

/**
 * selfTimes sums each function's self time over one or more profiles. A sample's time is the gap
 * to the next sample (the last sample of a profile counts until its `endTime`); nodes of the same
 * function at different call paths add up. Sorted by time, largest first.
 */
export function selfTimes(profiles: readonly CpuProfile[]): SelfTime[] {
  const byName = new Map<string, number>();
  for (const p of profiles) {
    const names = new Map(p.nodes.map((n) => [n.id, frameName(n.callFrame)]));
    const samples = p.samples ?? [];
    const deltas = p.timeDeltas ?? [];
    // Sample i was taken at startTime + deltas[0] + … + deltas[i] (µs).
    let t = p.startTime;
    const at = deltas.map((d) => (t += d));
    for (let i = 0; i < samples.length; i++) {
      const next = i + 1 < samples.length ? at[i + 1]! : p.endTime;
      const us = Math.max(0, next - (at[i] ?? p.startTime));
      const name = names.get(samples[i]!) ?? `(node ${samples[i]})`;
      byName.set(name, (byName.get(name) ?? 0) + us / 1000);
    }
  }
  return [...byName].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

/** readProfiles loads every `.cpuprofile` file in `dir` (node writes one per thread), with their paths. */
export function readProfiles(dir: string): Array<{ path: string; profile: CpuProfile }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => ({ path: join(dir, f), profile: JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile }));
}

/** formatTop writes the `n` largest self times as a table, with their share of the busy (not idle) time. */
export function formatTop(times: readonly SelfTime[], n = 15): string {
  const busy = times.filter((t) => t.name !== '(idle)').reduce((s, t) => s + t.ms, 0);
  const idle = times.find((t) => t.name === '(idle)')?.ms ?? 0;
  const lines = [`busy ${busy.toFixed(0)} ms, idle ${idle.toFixed(0)} ms; top ${n} by self time:`, '   self ms  busy %  function'];
  for (const t of times.filter((x) => x.name !== '(idle)').slice(0, n)) {
    lines.push(`${t.ms.toFixed(1).padStart(10)}  ${((100 * t.ms) / (busy || 1)).toFixed(1).padStart(6)}  ${t.name}`);
  }
  return lines.join('\n') + '\n';
}
