import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { posixSpawnAvailable } from './posix-spawn.js';
import { type ExitInfo, Reaper } from './reaper.js';

const skip = posixSpawnAvailable() ? false : 'posix_spawn with closefrom is not available in this libc';

/** state is a process's state letter from /proc (Z for a zombie), or undefined once it is gone. */
function state(pid: number): string | undefined {
  try {
    return /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

async function gone(pid: number, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) if (state(pid) === undefined) return true;
  return false;
}

/** started makes a reaper for the test; a timer keeps the loop alive, as the shim's server does. */
function started(t: { after(fn: () => void): void }): Reaper {
  const reaper = new Reaper();
  reaper.start();
  const alive = setInterval(() => {}, 1000);
  t.after(() => {
    clearInterval(alive);
    reaper.stop();
  });
  return reaper;
}

function watched(reaper: Reaper, pid: number): Promise<ExitInfo> {
  return new Promise((resolve) => reaper.watch(pid, resolve));
}

/** orphans starts `n` background shells through a shell that exits at once; their pids, now our children. */
async function orphans(reaper: Reaper, n: number, script: string): Promise<number[]> {
  const r = await reaper.run('sh', ['-c', `for i in $(seq ${n}); do sh -c '${script}' </dev/null >/dev/null 2>&1 & echo $!; done`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map(Number);
}

test('Reaper: orphans handed to the subreaper are reaped as they exit, their exits kept for a later watch', { skip }, async (t) => {
  const reaper = started(t);
  const pids = await orphans(reaper, 20, 'sleep 0.2; exit 5');
  assert.equal(pids.length, 20);
  for (const pid of pids) assert.ok(await gone(pid), `orphan ${pid} left as ${state(pid)}`);
  // Reaped before anyone watched: the exit waits for its watcher.
  for (const pid of pids) assert.equal((await watched(reaper, pid)).status, 5);
});

test('Reaper: a watched orphan is told its exit, also when it was killed', { skip }, async (t) => {
  const reaper = started(t);
  const [pid] = await orphans(reaper, 1, 'sleep 30');
  const exit = watched(reaper, pid!);
  process.kill(pid!, 'SIGKILL');
  assert.equal((await exit).status, 137);
  assert.ok(await gone(pid!));
});

test('Reaper: orphans that exit while a child of Node waits to be collected are reaped too', { skip }, async (t) => {
  const reaper = started(t);
  for (let round = 0; round < 3; round++) {
    // Node's child comes first in the list of children, so it is the exited child the kernel
    // names until libuv collects it.
    const child = reaper.spawn('sh', ['-c', 'sleep 0.2; exit 3'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const pids = await orphans(reaper, 5, 'sleep 0.3');
    // Everything exits while the loop is busy, and the sweep runs before Node or the signal
    // handlers get a turn.
    for (const end = Date.now() + 600; Date.now() < end; );
    reaper.sweep();
    for (const pid of pids) assert.equal(state(pid), undefined, `orphan ${pid} left as ${state(pid)}`);
    assert.equal(state(child.pid!), 'Z', "Node's child is left for Node to collect");
    assert.equal(await exited, 3, 'Node saw its own child exit');
  }
});
