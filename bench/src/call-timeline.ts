// call-timeline shows, for one row's samples, each gRPC call as a client sees it: containerd 1.6
// and ctrd run side by side, each behind a proxy (this program again, in a process of its own:
// the workloads run `ctr` synchronously) that times every call from the request's end to the
// answer's end. Per method, the time summed per sample (medians), and the last sample's calls in
// order, with when each began: where a row's difference lies between the calls a client sends one
// at a time and those it sends together. `method-times` gives the handlers' own part.
//
//   node bench/dist/call-timeline.js [--row pull-present] [--samples 8]
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CallWatch, type WatchedCall } from './call-watch.js';
import { BenchDaemon, unmountBelow } from './daemons.js';
import { buildFixtures } from './fixtures.js';
import { roundOrder } from './measure.js';
import { summarize } from './stats.js';
import { WORKLOADS, type BenchContext } from './workloads.js';

/** proxy serves `listen`, hands every connection on to `target` and appends each call to `log` as a JSON line. */
async function proxy(listen: string, target: string, log: string): Promise<void> {
  const server = net.createServer((client) => {
    const daemon = net.connect(target);
    const watch = new CallWatch((c) => appendFileSync(log, `${JSON.stringify(c)}\n`));
    client.on('data', (chunk: Buffer) => {
      daemon.write(chunk);
      watch.fromClient(chunk);
    });
    daemon.on('data', (chunk: Buffer) => {
      client.write(chunk);
      watch.fromServer(chunk);
    });
    client.on('close', () => daemon.destroy());
    daemon.on('close', () => client.destroy());
    client.on('error', () => {});
    daemon.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(listen, resolve));
  process.stdout.write('ready\n');
}

interface Side {
  d: BenchDaemon;
  log: string;
  proxy: ChildProcess;
  samples: WatchedCall[][];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      row: { type: 'string', default: 'pull-present' },
      samples: { type: 'string', default: '8' },
      proxy: { type: 'string', multiple: true },
    },
  });
  if (values.proxy !== undefined) {
    const [listen, target, log] = values.proxy;
    await proxy(listen!, target!, log!);
    // It serves until the runner kills it.
    return new Promise<void>(() => {});
  }
  const row = WORKLOADS.find((w) => w.id === values.row);
  if (!row) throw new Error(`--row: no row ${values.row}`);
  const samples = Number(values.samples);
  const parent = await mkdtemp(join(tmpdir(), 'ctrd-call-timeline-'));
  const sides: Side[] = [];
  const ctx: BenchContext = { quick: true, parent, fixtures: await buildFixtures(parent, 32 << 20), imageCount: 100, taskCount: 1 };
  try {
    for (const kind of ['containerd', 'ctrd'] as const) {
      const d = await BenchDaemon.create(kind, parent);
      await d.start();
      await row.setup?.(d, ctx);
      const log = join(d.dir, 'calls.jsonl');
      writeFileSync(log, '');
      const listen = join(d.dir, 'timed.sock');
      const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--proxy', listen, '--proxy', d.socket, '--proxy', log], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve, reject) => {
        p.stdout!.once('data', resolve);
        p.once('exit', () => reject(new Error('the proxy exited')));
      });
      d.routeThrough(listen);
      sides.push({ d, log, proxy: p, samples: [] });
    }
    // A warm-up sample on each, then each daemon first in every other round, as the bench does.
    for (let i = 0; i <= samples; i++) {
      for (const s of roundOrder(sides, i)) {
        writeFileSync(s.log, '');
        await row.sample(s.d, ctx, i);
        // The proxy's last lines may still be on their way.
        await new Promise((r) => setTimeout(r, 50));
        const calls = readFileSync(s.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as WatchedCall);
        if (i > 0) s.samples.push(calls.sort((a, b) => a.at - b.at));
      }
    }
    report(sides);
  } finally {
    for (const s of sides) {
      s.proxy.kill();
      try {
        await row.teardown?.(s.d, ctx);
      } catch {
        // the daemon may be gone; it is stopped next either way
      }
      await s.d.dispose();
    }
    unmountBelow(parent);
    await rm(parent, { recursive: true, force: true });
  }
}

function report(sides: Side[]): void {
  const methods = [...new Set(sides.flatMap((s) => s.samples.flat().map((c) => c.path)))].sort();
  const name = (path: string): string => path.split('/').slice(-2).join('/').replace(/^containerd\.services\./, '');
  console.log(`| method | calls per sample | ${sides.map((s) => `${s.d.kind} ms`).join(' | ')} |`);
  console.log(`|---|---|${sides.map(() => '---|').join('')}`);
  const totals = sides.map(() => 0);
  for (const m of methods) {
    const sums = sides.map((s) => summarize(s.samples.map((calls) => calls.filter((c) => c.path === m).reduce((a, c) => a + c.ms, 0))).median);
    sums.forEach((v, i) => (totals[i]! += v));
    const count = sides[0]!.samples.at(-1)?.filter((c) => c.path === m).length ?? 0;
    console.log(`| ${name(m)} | ${count} | ${sums.map((v) => v.toFixed(2)).join(' | ')} |`);
  }
  console.log(`| total | | ${totals.map((v) => v.toFixed(2)).join(' | ')} |`);
  for (const s of sides) {
    const last = s.samples.at(-1) ?? [];
    const t0 = last[0]?.at ?? 0;
    console.log(`\n${s.d.kind}, the last sample: ms from its first call, the call's ms, method`);
    for (const c of last) console.log(`${(c.at - t0).toFixed(2).padStart(8)} ${c.ms.toFixed(2).padStart(7)}  ${name(c.path)}`);
  }
}

// The pull rows' registry is stopped when the process exits.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
