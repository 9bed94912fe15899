#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchDaemon, TOP, unmountBelow, type DaemonKind } from './daemons.js';
import { buildFixtures } from './fixtures.js';
import { checkResults, finishRow, markdown, summarize, type BenchResults, type FloorResult, type RowResult } from './stats.js';
import { FLOORS, WORKLOADS, type BenchContext } from './workloads.js';

const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--only id,id] [--dir DIR] [--out FILE] [--check] [--from FILE]
  --quick      smoke run: smaller sizes (32 MiB blob); images and task counts stay
  --rounds N   measured rounds after the warm-up (default 5)
  --only       run only these workload ids (${WORKLOADS.map((w) => w.id).join(', ')})
  --dir        parent directory for both daemons (default: a new directory in the temp dir)
  --out        JSON results path (default bench/results/<date>.json)
  --check      fail (exit 1) on a missing row, fewer than 5 rounds or a missing containerd column
  --from FILE  with --check: check an existing results file instead of running`;

function firstLine(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.split('\n')[0]?.trim() ?? '';
}

function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      only: { type: 'string' },
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
    const results = JSON.parse(readFileSync(values.from, 'utf8')) as BenchResults;
    process.stdout.write(markdown(results));
    return report(checkResults(results, expected));
  }
  const rounds = values.rounds ? Number(values.rounds) : 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: want a positive integer, got ${values.rounds}`);
  const only = values.only?.split(',');
  const workloads = only ? WORKLOADS.filter((w) => only.includes(w.id)) : WORKLOADS;
  const quick = values.quick ?? false;

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
    // A first, B second in every round; the order is the same each time.
    const kinds: DaemonKind[] = ['containerd', 'ctrd'];
    for (const kind of kinds) {
      const d = await BenchDaemon.create(kind, parent);
      daemons.push(d);
      log(`${kind} up in ${(await d.start()).toFixed(0)} ms (${d.address}, namespace ${d.namespace})`);
    }
    const [a, b] = daemons as [BenchDaemon, BenchDaemon];

    const rows: RowResult[] = [];
    for (const w of workloads) {
      log(`${w.id}: ${w.title}`);
      const row = { id: w.id, title: w.title, unit: w.unit, detail: '', containerd: [] as number[], ctrd: [] as number[] } as Omit<RowResult, 'ratio' | 'summary'>;
      try {
        for (const d of daemons) await w.setup?.(d, ctx);
        await w.sample(a, ctx, 0);
        await w.sample(b, ctx, 0);
        for (let n = 1; n <= rounds; n++) {
          row[a.kind].push(await w.sample(a, ctx, n));
          row[b.kind].push(await w.sample(b, ctx, n));
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
      rows.push(finishRow(row));
    }

    const floors: FloorResult[] = [];
    for (const f of FLOORS) {
      const samples: number[] = [];
      let error: string | undefined;
      try {
        f.sample(ctx, 0);
        for (let n = 1; n <= rounds; n++) samples.push(f.sample(ctx, n));
      } catch (err) {
        error = (err as Error).message;
      }
      floors.push({ id: f.id, title: f.title, unit: f.unit, samples, summary: summarize(samples), ...(error ? { error } : {}) });
    }

    const date = new Date().toISOString();
    const results: BenchResults = {
      date,
      quick,
      rounds,
      host: { node: process.versions.node, cpus: cpus().length, kernel: release(), containerd: firstLine('containerd', ['--version']), ctr: firstLine('ctr', ['--version']) },
      rows,
      floors,
    };
    const out = values.out ?? join(TOP, 'bench', 'results', `${date.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    process.stdout.write(markdown(results));
    log(`results written to ${out}`);
    return values.check ? report(checkResults(results, expected)) : 0;
  } finally {
    await cleanup();
  }
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
