/**
 * A micro benchmark of what the shim does on each SIGCHLD (not a test, not exported): this
 * process becomes a subreaper with `--children` sleeping children of its own (a shim serving
 * that many tasks), then, `--exits` times, starts `true`, waits until it is a zombie and times one
 * sweep that reaps it. `sweep` asks the kernel which child exited; `listed` is the way it falls
 * back to, listing every child in /proc and calling waitpid on each. Medians in µs.
 *
 *   node packages/shim/dist/bench-sweep.js [--children 1,10,50] [--exits 300]
 */
import { openSync, closeSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { posixSpawn, posixSpawnAvailable } from './posix-spawn.js';
import { Reaper } from './reaper.js';

function zombie(pid: number): boolean {
  try {
    return /\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { children: { type: 'string', default: '1,10,50' }, exits: { type: 'string', default: '300' } } });
  if (!posixSpawnAvailable()) throw new Error('posix_spawn is not available in this libc');
  const reaper = new Reaper();
  reaper.start();
  const devnull = openSync('/dev/null', 'r+');
  const sleepers: number[] = [];
  const exits = Number(values.exits);
  console.log('| running children | sweep µs | listed µs |');
  console.log('|---|---|---|');
  for (const want of values.children.split(',').map(Number)) {
    while (sleepers.length < want) sleepers.push(posixSpawn('sleep', ['1000'], { stdio: [devnull, devnull, devnull] }));
    const times: Record<'sweep' | 'listed', number[]> = { sweep: [], listed: [] };
    for (let i = 0; i < exits; i++) {
      for (const way of ['sweep', 'listed'] as const) {
        const pid = posixSpawn('true', [], { stdio: [devnull, devnull, devnull] });
        // No turn of the loop until it is reaped: the SIGCHLD handler cannot run first.
        while (!zombie(pid));
        const t0 = performance.now();
        if (way === 'sweep') reaper.sweep();
        else reaper.sweepListed();
        times[way].push((performance.now() - t0) * 1000);
        if (zombie(pid)) throw new Error(`${way} left ${pid} unreaped`);
      }
    }
    console.log(`| ${want} | ${median(times.sweep).toFixed(1)} | ${median(times.listed).toFixed(1)} |`);
  }
  for (const pid of sleepers) process.kill(pid, 'SIGKILL');
  closeSync(devnull);
  reaper.stop();
}

await main();
