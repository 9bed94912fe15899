// start-ab compares two builds of ctrd's launcher by their start-up: it starts each in turn
// (A B A B …), times the start until `ctr version` answers, as the `daemon-start` rows do, and
// reads the CPU time all the daemon's threads used until then from /proc (nanoseconds, where
// /proc/<pid>/stat counts 10 ms ticks). Start-up here is bound by CPU and the machine's speed
// drifts by tens of percent within minutes, so builds are only compared within one such run.
//
//   node bench/dist/start-ab.js [--rounds 20] [--keep-root] <launcher-A> <launcher-B>
//
// A launcher is a copy of packages/daemon/bundle/ctrd.js with its ctrd.cjs beside it: copy the
// whole directory before rebuilding, next to it (packages/daemon/bundle-before), so the bundle
// still finds its native modules in the repository's node_modules, and drop the copy's .cache
// so each build writes its own.
// --keep-root starts each build on the root its previous start left, as an operator's restart
// does; without it every start gets a fresh root and state.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ctrdEnv, ctrdNodeFlags } from '@ctrd/daemon/launcher';
import { threadsCpuMs } from './cpu.js';
import { waitForAnswer } from './daemons.js';
import { summarize } from './stats.js';

interface Build {
  name: string;
  launcher: string;
  dir: string;
  wall: number[];
  cpu: number[];
}

async function startOnce(b: Build, keepRoot: boolean): Promise<void> {
  const socket = join(b.dir, 'ctrd.sock');
  if (!keepRoot) {
    rmSync(join(b.dir, 'root'), { recursive: true, force: true });
    rmSync(join(b.dir, 'state'), { recursive: true, force: true });
  }
  const t0 = process.hrtime.bigint();
  const proc = spawn(process.execPath, [...ctrdNodeFlags(b.launcher), b.launcher, '--config', join(b.dir, 'config.toml')], { stdio: 'ignore', env: ctrdEnv(b.launcher) });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  try {
    await waitForAnswer(proc, socket, { what: `build ${b.name}`, version: true });
    b.wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    b.cpu.push(threadsCpuMs(proc.pid!) ?? NaN);
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, 'keep-root': { type: 'boolean', default: false } }, allowPositionals: true });
  const rounds = Number(values.rounds);
  if (positionals.length !== 2 || !(rounds >= 1)) {
    process.stderr.write('usage: start-ab [--rounds N] [--keep-root] <launcher-A> <launcher-B>\n');
    process.exit(2);
  }
  const top = mkdtempSync(join(tmpdir(), 'ctrd-start-ab-'));
  const builds: Build[] = positionals.map((p, i) => {
    const dir = join(top, 'AB'[i]!);
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.toml'), `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\naddress = "${dir}/ctrd.sock"\n`);
    return { name: 'AB'[i]!, launcher: resolve(p), dir, wall: [], cpu: [] };
  });
  try {
    // One start of each first: it writes the build's code cache and, with --keep-root, its root.
    for (const b of builds) await startOnce(b, values['keep-root']);
    for (const b of builds) b.wall.length = b.cpu.length = 0;
    for (let i = 0; i < rounds; i++) for (const b of builds) await startOnce(b, values['keep-root']);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
  const f = (x: number) => x.toFixed(0);
  process.stdout.write(`${rounds} alternating starts per build, ${values['keep-root'] ? 'root kept between starts' : 'fresh root per start'}\n\n`);
  process.stdout.write('| build | until `ctr version` answers, ms | CPU of all threads, ms |\n|---|---|---|\n');
  for (const b of builds) {
    const w = summarize(b.wall);
    const c = summarize(b.cpu);
    process.stdout.write(`| ${b.name} ${b.launcher} | ${f(w.median)} (${f(w.min)}–${f(w.max)}) | ${f(c.median)} (${f(c.min)}–${f(c.max)}) |\n`);
  }
  const [a, b] = builds.map((x) => ({ w: summarize(x.wall).median, c: summarize(x.cpu).median }));
  process.stdout.write(`\nB/A of the medians: ${(b!.w / a!.w).toFixed(2)} wall, ${(b!.c / a!.c).toFixed(2)} CPU\n`);
}

await main();
