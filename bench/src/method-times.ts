// method-times shows, for one row's samples, how many calls of each gRPC method the client makes
// and how long each daemon's handlers take for them: containerd 1.6 and ctrd run side by side with
// `[metrics]` on (`grpc_histogram = true`), the row's samples run on both in turn, and the
// `grpc_server_handling_seconds` histograms are read before and after. Both daemons time a call
// from the handler's start to its answer, without the HTTP/2 stream around it, so the table
// tells whether a row's difference lies in the handlers or in what a call costs around them.
//
//   node bench/dist/method-times.js [--row pull-present] [--samples 20]
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchDaemon, unmountBelow } from './daemons.js';
import { buildFixtures } from './fixtures.js';
import { WORKLOADS, type BenchContext } from './workloads.js';

interface Timing {
  sum: number;
  count: number;
}

// containerd labels grpc_type too; the label order differs between the two exporters.
const SERIES = /^grpc_server_handling_seconds_(sum|count)\{([^}]*)\} (\S+)$/;

/** handling reads each method's handling-time sum (seconds) and count from a metrics endpoint. */
async function handling(port: number): Promise<Map<string, Timing>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/v1/metrics`)).text();
  const out = new Map<string, Timing>();
  for (const line of text.split('\n')) {
    const m = SERIES.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = `${String(labels.grpc_service).split('.').pop()}/${labels.grpc_method}`;
    const t = out.get(key) ?? { sum: 0, count: 0 };
    t[m[1] as 'sum' | 'count'] = Number(m[3]);
    out.set(key, t);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { row: { type: 'string', default: 'pull-present' }, samples: { type: 'string', default: '20' } } });
  const row = WORKLOADS.find((w) => w.id === values.row);
  if (!row) throw new Error(`--row: no row ${values.row}`);
  const samples = Number(values.samples);
  const parent = await mkdtemp(join(tmpdir(), 'ctrd-method-times-'));
  const daemons: Array<{ d: BenchDaemon; port: number }> = [];
  const ctx: BenchContext = { quick: true, parent, fixtures: await buildFixtures(parent, 32 << 20), imageCount: 100, taskCount: 1 };
  try {
    let port = 19300 + (process.pid % 500);
    for (const kind of ['containerd', 'ctrd'] as const) {
      const d = await BenchDaemon.create(kind, parent);
      const p = ++port;
      appendFileSync(d.configPath, `[metrics]\naddress = "127.0.0.1:${p}"\ngrpc_histogram = true\n`);
      daemons.push({ d, port: p });
      await d.start();
      await row.setup?.(d, ctx);
    }
    const before = await Promise.all(daemons.map(({ port: p }) => handling(p)));
    for (let i = 0; i < samples; i++) for (const { d } of daemons) await row.sample(d, ctx, i);
    const after = await Promise.all(daemons.map(({ port: p }) => handling(p)));
    const delta = (j: number, key: string): Timing => {
      const a = after[j]!.get(key) ?? { sum: 0, count: 0 };
      const b = before[j]!.get(key) ?? { sum: 0, count: 0 };
      return { sum: a.sum - b.sum, count: a.count - b.count };
    };
    const us = (t: Timing) => (t.count > 0 ? ((t.sum / t.count) * 1e6).toFixed(0) : '–');
    console.log(`${row.id}: ${samples} samples on each daemon, in turn; per call, from the handler's start to its answer\n`);
    console.log('| method | calls per sample (containerd / ctrd) | containerd µs | ctrd µs |');
    console.log('|---|---|---|---|');
    for (const key of [...new Set([...after[0]!.keys(), ...after[1]!.keys()])].sort()) {
      const [c, n] = [delta(0, key), delta(1, key)];
      if (c.count === 0 && n.count === 0) continue;
      console.log(`| ${key} | ${(c.count / samples).toFixed(1)} / ${(n.count / samples).toFixed(1)} | ${us(c)} | ${us(n)} |`);
    }
  } finally {
    for (const { d } of daemons) {
      try {
        await row.teardown?.(d, ctx);
      } catch {
        // the daemon may be gone; it is stopped next either way
      }
      await d.dispose();
    }
    unmountBelow(parent);
    await rm(parent, { recursive: true, force: true });
  }
}

await main();
