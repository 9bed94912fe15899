// connection-ab measures what a client waits for on each server answering the daemon's socket:
// containerd 1.6, ctrd on its own gRPC server and ctrd on grpc-js (`[grpc] server`), started side
// by side. In turn, each round: a new connection and its first Version call, then a second call on
// it (ctrctl's lean HTTP/2 client, which costs each the same), and every fourth round `ctr
// version` as a whole process.
//
//   node bench/dist/connection-ab.js [--rounds 200]
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { leanCall, leanSession } from '@ctrd/cli/lean-grpc';
import { BenchDaemon } from './daemons.js';
import { summarize } from './stats.js';

const VERSION = '/containerd.services.version.v1.Version/Version';

interface Side {
  name: string;
  daemon: BenchDaemon;
  first: number[];
  second: number[];
  ctr: number[];
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '200' } } });
const rounds = Number(values.rounds);
const parent = await mkdtemp(join(tmpdir(), 'connection-ab-'));
const sides: Side[] = [];
try {
  for (const [kind, server] of [['containerd', undefined], ['ctrd', 'ctrd'], ['ctrd', 'grpc-js']] as const) {
    const daemon = await BenchDaemon.create(kind, parent);
    if (server !== undefined) {
      const toml = await readFile(daemon.configPath, 'utf8');
      await writeFile(daemon.configPath, toml.replace('[grpc]\n', `[grpc]\nserver = "${server}"\n`));
    }
    sides.push({ name: server === undefined ? kind : `ctrd (${server})`, daemon, first: [], second: [], ctr: [] });
    await daemon.start();
  }
  for (let i = 0; i < rounds; i++) {
    for (const s of sides) {
      const t0 = performance.now();
      const session = await leanSession(s.daemon.address);
      await leanCall(session, VERSION, new Uint8Array(0));
      const t1 = performance.now();
      await leanCall(session, VERSION, new Uint8Array(0));
      s.second.push(performance.now() - t1);
      s.first.push(t1 - t0);
      session.close();
      if (i % 4 === 0) {
        const t2 = performance.now();
        spawnSync('ctr', ['--address', s.daemon.address, 'version'], { stdio: 'ignore' });
        s.ctr.push(performance.now() - t2);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
} finally {
  for (const s of sides) await s.daemon.dispose();
  await rm(parent, { recursive: true, force: true });
}
const cell = (v: number[]) => {
  const { median, min, max } = summarize(v);
  return `${median.toFixed(3)} (${min.toFixed(3)}–${max.toFixed(3)})`;
};
console.log(`${rounds} rounds in turn, median (min–max) ms\n`);
console.log('| server | new connection + first call | second call | `ctr version` |');
console.log('|---|---|---|---|');
for (const s of sides) console.log(`| ${s.name} | ${cell(s.first)} | ${cell(s.second)} | ${cell(s.ctr)} |`);
