#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchDaemon, ensureCodeCache, TOP, unmountBelow, type DaemonKind } from './daemons.js';
import { buildFixtures } from './fixtures.js';
import { measureRow } from './measure.js';
import { checkResults, markdown, summarize, type BenchResults, type FloorResult, type RowResult } from './stats.js';
import { formatTop, readProfiles, selfTimes } from './cpu-profile.js';
import { SCALING_SERIES, runScaling } from './scaling.js';
import { scalingCharts, scalingMarkdown, type ScalingResults } from './scaling-report.js';
import { lineChartSvg } from './svg-chart.js';
import { FLOORS, WORKLOADS, type BenchContext, type Workload } from './workloads.js';

const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--only id,id] [--dir DIR] [--out FILE] [--check] [--from FILE]
       npm run bench -- --scaling [--quick] [--rounds N] [--only series,series]
       npm run bench -- --profile ROW [--quick] [--rounds N]
  --quick        smoke run: smaller sizes (32 MiB blob, 40 MB pull images; 3 rounds per scaling point)
  --rounds N     measured rounds after the warm-up (default 5; --scaling --quick: 3)
  --only         run only these workload ids (${WORKLOADS.map((w) => w.id).join(', ')})
                 or, with --scaling, these series (${SCALING_SERIES.map((s) => s.id).join(', ')})
  --scaling      run the scaling series instead of the rows; writes JSON and SVG charts
  --profile ROW  run one row on ctrd only, under node --cpu-prof; prints the profile's top functions
  --dir          parent directory for both daemons (default: a new directory in the temp dir)
  --out          JSON results path (default bench/results/<date>[-scaling][-quick].json)
  --check        fail (exit 1) on a missing row, fewer than 5 rounds or a missing containerd column
  --from FILE    print an existing results file (with --check: check it; a scaling file: rewrite its charts)`;

function firstLine(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.split('\n')[0]?.trim() ?? '';
}

function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

function host(): BenchResults['host'] {
  return {
    node: process.versions.node,
    cpus: cpus().length,
    kernel: release(),
    containerd: firstLine('containerd', ['--version']),
    ctr: firstLine('ctr', ['--version']),
    ...(process.env.NODE_EXTRA_CA_CERTS ? { nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS } : {}),
  };
}

const stamp = (date: string) => date.replace(/[:.]/g, '-');

/** writeCharts writes each series' wall-time and CPU charts beside the results file and names them in the series. */
function writeCharts(results: ScalingResults, resultsPath: string): void {
  const base = basename(resultsPath).replace(/\.json$/, '');
  for (const s of results.series) {
    const { wall, cpu } = scalingCharts(s);
    s.charts = [`${base}-${s.id}.svg`, `${base}-${s.id}-cpu.svg`];
    writeFileSync(join(dirname(resultsPath), s.charts[0]!), lineChartSvg(wall));
    writeFileSync(join(dirname(resultsPath), s.charts[1]!), lineChartSvg(cpu));
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      only: { type: 'string' },
      scaling: { type: 'boolean', default: false },
      profile: { type: 'string' },
      dir: { type: 'string' },
      out: { type: 'string' },
      check: { type: 'boolean', default: false },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const expected = WORKLOADS.map((w) => w.id);
  if (values.from) {
    const loaded = JSON.parse(readFileSync(values.from, 'utf8')) as BenchResults | ScalingResults;
    if ('kind' in loaded && loaded.kind === 'scaling') {
      writeCharts(loaded, values.from);
      writeFileSync(values.from, JSON.stringify(loaded, null, 2) + '\n');
      process.stdout.write(scalingMarkdown(loaded));
      if (values.check) throw new Error('--check applies to the rows, not to a scaling run');
      return 0;
    }
    const results = loaded as BenchResults;
    process.stdout.write(markdown(results));
    return values.check ? report(checkResults(results, expected)) : 0;
  }
  if (values.scaling && values.profile) throw new Error('--scaling and --profile do not go together');
  if (values.check && (values.scaling || values.profile)) throw new Error('--check applies to the rows of a full run, not to --scaling or --profile');
  const quick = values.quick ?? false;
  const rounds = values.rounds ? Number(values.rounds) : values.scaling && quick ? 3 : 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: want a positive integer, got ${values.rounds}`);
  const only = values.only?.split(',');
  const workloads = only ? WORKLOADS.filter((w) => only.includes(w.id)) : WORKLOADS;
  const series = only ? SCALING_SERIES.filter((s) => only.includes(s.id)) : SCALING_SERIES;
  if (values.scaling && series.length === 0) throw new Error(`--only: no scaling series among ${only?.join(', ')}`);
  const profiled = values.profile === undefined ? undefined : WORKLOADS.find((w) => w.id === values.profile);
  if (values.profile !== undefined && !profiled) throw new Error(`--profile: no row ${values.profile} (rows: ${expected.join(', ')})`);
  const date = new Date().toISOString();
  const profileDir = profiled ? join(TOP, 'bench', 'results', 'profiles', `${stamp(date)}-${profiled.id}`) : undefined;

  const parent = values.dir ?? (await mkdtemp(join(tmpdir(), 'ctrd-bench-')));
  mkdirSync(parent, { recursive: true });
  const daemons: BenchDaemon[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const d of daemons) {
        try {
          d.killTasks();
        } catch {
          // the daemon may already be gone
        }
        await d.dispose();
      }
      unmountBelow(parent);
      if (!values.dir) await rm(parent, { recursive: true, force: true });
    })());
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping both daemons`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    log(`building fixtures in ${parent}`);
    const fixtures = await buildFixtures(parent, quick ? 32 << 20 : 256 << 20);
    const ctx: BenchContext = { quick, parent, fixtures, imageCount: 1000, taskCount: quick ? 4 : 10 };
    // A first, B second in every round; the order is the same each time. A profile runs ctrd alone.
    const kinds: DaemonKind[] = profiled ? ['ctrd'] : ['containerd', 'ctrd'];
    await ensureCodeCache(parent, log);
    for (const kind of kinds) {
      const nodeArgs = profileDir && kind === 'ctrd' ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
      const d = await BenchDaemon.create(kind, parent, { nodeArgs });
      daemons.push(d);
      log(`${kind} up in ${(await d.start()).toFixed(0)} ms (${d.address}, namespace ${d.namespace})`);
    }

    if (profiled && profileDir) return await profile(profiled, daemons[0]!, ctx, rounds, date, quick, profileDir);

    if (values.scaling) {
      const results: ScalingResults = { kind: 'scaling', date, quick, rounds, host: host(), series: await runScaling(series, daemons, ctx, rounds, log) };
      const out = values.out ?? join(TOP, 'bench', 'results', `${stamp(date)}-scaling${quick ? '-quick' : ''}.json`);
      mkdirSync(dirname(out), { recursive: true });
      writeCharts(results, out);
      writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
      process.stdout.write(scalingMarkdown(results));
      log(`results written to ${out}, charts: ${results.series.flatMap((s) => s.charts ?? []).join(', ')}`);
      return 0;
    }

    const rows: RowResult[] = [];
    for (const w of workloads) {
      log(`${w.id}: ${w.title}`);
      rows.push(await measureRow(w, daemons, ctx, rounds, log));
    }

    const floors: FloorResult[] = [];
    for (const f of FLOORS) {
      const samples: number[] = [];
      let error: string | undefined;
      try {
        await f.sample(ctx, 0);
        for (let n = 1; n <= rounds; n++) samples.push(await f.sample(ctx, n));
      } catch (err) {
        error = (err as Error).message;
      }
      floors.push({ id: f.id, title: f.title, unit: f.unit, samples, summary: summarize(samples), ...(error ? { error } : {}) });
    }

    const results: BenchResults = { date, quick, rounds, host: host(), rows, floors };
    const out = values.out ?? join(TOP, 'bench', 'results', `${stamp(date)}${quick ? '-quick' : ''}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    process.stdout.write(markdown(results));
    log(`results written to ${out}`);
    return values.check ? report(checkResults(results, expected)) : 0;
  } finally {
    await cleanup();
  }
}

/**
 * profile runs one row on ctrd alone (started under `--cpu-prof`), stops ctrd with SIGTERM so
 * node writes the profile, and prints the row, the profile files and the top self-time functions.
 */
async function profile(w: Workload, ctrd: BenchDaemon, ctx: BenchContext, rounds: number, date: string, quick: boolean, dir: string): Promise<number> {
  log(`${w.id}: ${w.title} (ctrd only, profiled)`);
  const row = await measureRow(w, [ctrd], ctx, rounds, log);
  await ctrd.stop();
  const results: BenchResults = { date, quick, rounds, host: host(), rows: [row], floors: [] };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'row.json'), JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(markdown(results) + '\n');
  const profiles = readProfiles(dir);
  if (profiles.length === 0) throw new Error(`no .cpuprofile written to ${dir} (did ctrd exit on SIGTERM?)`);
  process.stdout.write(`profiles (${profiles.length}, one per thread; open in Chrome DevTools or speedscope):\n${profiles.map((p) => `  ${p.path}`).join('\n')}\n`);
  process.stdout.write(`whole daemon run (start-up, setup, warm-up, ${rounds} samples, teardown), all threads: ${formatTop(selfTimes(profiles.map((p) => p.profile)), 15)}`);
  return row.error ? 1 : 0;
}

function report(problems: string[]): number {
  for (const p of problems) log(`check: ${p}`);
  if (problems.length === 0) log('check: complete');
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log((err as Error).stack ?? String(err));
    process.exit(1);
  },
);
