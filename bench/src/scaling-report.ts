import { cell, cpuMsText, summarize, type BenchResults, type Summary } from './stats.js';
import type { LineChart } from './svg-chart.js';

/** ScalingPoint is one x of one line: its samples, the daemon's CPU time per sample and their summaries. */
export interface ScalingPoint {
  x: number;
  samples: number[];
  cpuMs: number[];
  summary: Summary;
  cpu: Summary;
  error?: string;
}

/** ScalingLine is one client/daemon combination measured at every x of a series. */
export interface ScalingLine {
  name: string;
  daemon: 'containerd' | 'ctrd';
  points: ScalingPoint[];
}

/** ScalingSeries is one scaling measurement: a parameter varied over `x`, one line per client and daemon. */
export interface ScalingSeries {
  id: string;
  title: string;
  xLabel: string;
  unit: string;
  detail: string;
  lines: ScalingLine[];
  /** the SVG charts written for the series, file names relative to the results file. */
  charts?: string[];
}

/** ScalingResults is what a `--scaling` run writes to bench/results/. */
export interface ScalingResults {
  kind: 'scaling';
  date: string;
  quick: boolean;
  rounds: number;
  host: BenchResults['host'];
  series: ScalingSeries[];
}

/** scalingPoint summarises the samples and CPU times of one point. */
export function scalingPoint(x: number, samples: number[], cpuMs: number[], error?: string): ScalingPoint {
  return { x, samples, cpuMs, summary: summarize(samples), cpu: summarize(cpuMs), ...(error ? { error } : {}) };
}

/** roundRatios divides `b`'s samples by `a`'s round by round (the samples of one round run back to back). */
export function roundRatios(a: readonly number[], b: readonly number[]): number[] {
  return Array.from({ length: Math.min(a.length, b.length) }, (_, i) => b[i]! / a[i]!);
}

/**
 * scalingMarkdown renders each series as a table: one row per x with each line's wall time, each
 * later line's ratio to the first (per round, then summarised) and each line's median daemon CPU.
 */
export function scalingMarkdown(r: ScalingResults): string {
  const out: string[] = [];
  out.push(`${r.quick ? 'Quick scaling run' : 'Scaling run'} of ${r.date}: ${r.rounds} rounds per point, ${r.host.cpus} CPUs, Linux ${r.host.kernel}, Node ${r.host.node}, ${r.host.containerd}.`);
  out.push('Cells: median (min–max) over the rounds; ratios per round against the first line; CPU: median utime+stime of the daemon process during a sample (/proc/<pid>/stat, 10 ms resolution).');
  for (const s of r.series) {
    const [first, ...rest] = s.lines;
    if (!first) continue;
    out.push('', `### ${s.title}`, '', s.detail + (s.charts?.length ? ` Charts: ${s.charts.map((c) => `\`${c}\``).join(', ')}.` : ''), '');
    const head = [s.xLabel, ...s.lines.map((l) => `${l.name} ${s.unit}`), ...rest.map((l) => `${l.name} / ${first.name}`), ...s.lines.map((l) => `CPU ms ${l.name}`)];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    const xs = [...new Set(s.lines.flatMap((l) => l.points.map((p) => p.x)))].sort((a, b) => a - b);
    for (const x of xs) {
      const at = (l: ScalingLine) => l.points.find((p) => p.x === x);
      const errors = s.lines.map((l) => at(l)?.error).filter(Boolean) as string[];
      const cells = [
        String(x),
        ...s.lines.map((l) => (at(l) ? cell(at(l)!.summary) : '–')),
        ...rest.map((l) => cell(summarize(roundRatios(at(first)?.samples ?? [], at(l)?.samples ?? [])))),
        ...s.lines.map((l) => cpuMsText(at(l)?.cpu.median ?? NaN)),
      ];
      if (errors.length) cells[cells.length - 1] += ` **error: ${errors[0]!.replace(/\|/g, '/').split('\n')[0]}**`;
      out.push(`| ${cells.join(' | ')} |`);
    }
  }
  return out.join('\n') + '\n';
}

/** scalingCharts turns a series into line charts: the wall time and the daemons' CPU time, each against x on a log axis. */
export function scalingCharts(s: ScalingSeries): { wall: LineChart; cpu: LineChart } {
  const chart = (what: 'wall' | 'cpu'): LineChart => ({
    title: what === 'wall' ? s.title : `${s.title}: daemon CPU`,
    xLabel: s.xLabel,
    yLabel: what === 'wall' ? `${s.unit}, median (min–max)` : 'daemon CPU ms, median (min–max)',
    xLog: true,
    lines: s.lines.map((l) => ({
      name: l.name,
      points: l.points.map((p) => {
        const sum = what === 'wall' ? p.summary : p.cpu;
        return { x: p.x, y: sum.median, min: sum.min, max: sum.max };
      }),
    })),
  });
  return { wall: chart('wall'), cpu: chart('cpu') };
}
