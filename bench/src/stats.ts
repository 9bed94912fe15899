/** Summary is the median, minimum and maximum of some samples. */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** summarize computes the {@link Summary} of `xs` (NaN everywhere when empty). */
export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** RowResult is one workload measured on both daemons, round by round. */
export interface RowResult {
  id: string;
  title: string;
  unit: string;
  /** the workload's parameters as run (sizes, counts, runtimes). */
  detail: string;
  containerd: number[];
  ctrd: number[];
  /** ctrd / containerd, one per round. */
  ratio: number[];
  summary: { containerd: Summary; ctrd: Summary; ratio: Summary };
  /** CPU time (utime + stime) the daemon used during each sample, in ms; absent where not measured. */
  cpu?: RowCpu;
  error?: string;
}

/** RowCpu is the daemons' CPU time per sample of a row, and what it covers. */
export interface RowCpu {
  /** `daemon`: the daemon process; `daemon+shims`: also its shim processes alive during the sample. */
  scope: 'daemon' | 'daemon+shims';
  containerd: number[];
  ctrd: number[];
  summary: { containerd: Summary; ctrd: Summary };
}

/** FloorResult is a daemon-free reference measurement. */
export interface FloorResult {
  id: string;
  title: string;
  unit: string;
  samples: number[];
  summary: Summary;
  error?: string;
}

/** BenchResults is what one run writes to bench/results/. */
export interface BenchResults {
  date: string;
  quick: boolean;
  rounds: number;
  /** `nodeExtraCaCerts`: the NODE_EXTRA_CA_CERTS the harness found (ctrd's launchers move it aside). */
  host: { node: string; cpus: number; kernel: string; containerd: string; ctr: string; nodeExtraCaCerts?: string };
  rows: RowResult[];
  floors: FloorResult[];
}

/** finishRow fills the ratios and summaries of a row from its samples. */
export function finishRow(row: Omit<RowResult, 'ratio' | 'summary' | 'cpu'> & { cpu?: Omit<RowCpu, 'summary'> }): RowResult {
  const n = Math.min(row.containerd.length, row.ctrd.length);
  const ratio = Array.from({ length: n }, (_, i) => row.ctrd[i]! / row.containerd[i]!);
  const { cpu, ...rest } = row;
  return {
    ...rest,
    ratio,
    summary: { containerd: summarize(row.containerd), ctrd: summarize(row.ctrd), ratio: summarize(ratio) },
    ...(cpu ? { cpu: { ...cpu, summary: { containerd: summarize(cpu.containerd), ctrd: summarize(cpu.ctrd) } } } : {}),
  };
}

/** fmt writes a number with three significant digits at most (none after the point from 100 up), `–` when not finite. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** cpuMsText writes a CPU time in ms; 0 as `<10`, below one clock tick rather than free. */
export function cpuMsText(ms: number): string {
  return ms === 0 ? '<10' : fmt(ms);
}

/** cell writes a summary as `median (min–max)`. */
export function cell(s: Summary): string {
  return Number.isFinite(s.median) ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '–';
}

/** markdown renders the results as Markdown tables: the comparison, then the floors. */
export function markdown(r: BenchResults): string {
  const out: string[] = [];
  out.push(`${r.quick ? 'Quick run' : 'Run'} of ${r.date}: ${r.rounds} rounds, ${r.host.cpus} CPUs, Linux ${r.host.kernel}, Node ${r.host.node}, ${r.host.containerd}.`);
  if (r.host.nodeExtraCaCerts) out.push(`NODE_EXTRA_CA_CERTS=${r.host.nodeExtraCaCerts} in the environment: ctrd's and ctrctl's launchers start node without it, and so do the floors of Node processes.`);
  out.push('Cells: median (min–max) over the rounds; ratio = ctrd / containerd per round. CPU: median utime+stime of the daemon process during a sample (`+shims`: and of its shims), from /proc/<pid>/stat, 10 ms resolution.', '');
  out.push('| workload | parameters | unit | containerd | ctrd | ratio ctrd/containerd | containerd CPU ms | ctrd CPU ms |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const row of r.rows) {
    const tail = row.error ? ` **error: ${row.error.replace(/\|/g, '/').split('\n')[0]}**` : '';
    const scope = row.cpu?.scope === 'daemon+shims' ? ' +shims' : '';
    const cpu = (s?: Summary) => (s && Number.isFinite(s.median) ? `${cpuMsText(s.median)}${scope}` : '–');
    out.push(
      `| ${row.title} | ${row.detail} | ${row.unit} | ${cell(row.summary.containerd)} | ${cell(row.summary.ctrd)} | ${cell(row.summary.ratio)}${tail} | ${cpu(row.cpu?.summary.containerd)} | ${cpu(row.cpu?.summary.ctrd)} |`,
    );
  }
  if (r.floors.length) {
    out.push('', '| floor (no daemon) | unit | median (min–max) |', '|---|---|---|');
    for (const f of r.floors) out.push(`| ${f.title} | ${f.unit} | ${cell(f.summary)}${f.error ? ` **error: ${f.error.split('\n')[0]}**` : ''} |`);
  }
  return out.join('\n') + '\n';
}

/** checkResults lists what makes a result incomplete: missing rows, short rows, missing containerd columns. */
export function checkResults(r: BenchResults, expectedRows: readonly string[], minRounds = 5): string[] {
  const problems: string[] = [];
  if (r.rounds < minRounds) problems.push(`only ${r.rounds} rounds (at least ${minRounds} needed)`);
  for (const id of expectedRows) {
    const row = r.rows.find((x) => x.id === id);
    if (!row) {
      problems.push(`row ${id} is missing`);
      continue;
    }
    if (row.error) problems.push(`row ${id} failed: ${row.error.split('\n')[0]}`);
    if (row.containerd.length === 0) problems.push(`row ${id} has no containerd column`);
    if (row.ctrd.length === 0) problems.push(`row ${id} has no ctrd column`);
    const n = Math.min(row.containerd.length, row.ctrd.length);
    if (n > 0 && n < minRounds) problems.push(`row ${id} has ${n} rounds (at least ${minRounds} needed)`);
  }
  return problems;
}
