import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import koffi from 'koffi';
import { join } from 'node:path';
import { ChildExits } from './child-exits.js';
import { posixSpawn, posixSpawnAvailable } from './posix-spawn.js';
import { Reaper } from './reaper.js';
import { spawnPiped } from './spawn-piped.js';

const skip = posixSpawnAvailable() ? false : 'posix_spawn with closefrom is not available in this libc';

function collect(child: ReturnType<typeof spawnPiped>): Promise<[string, string]> {
  const read = (s: NodeJS.ReadableStream): Promise<string> =>
    new Promise((resolve) => {
      let out = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (out += d));
      s.on('close', () => resolve(out));
    });
  return Promise.all([read(child.stdout!), read(child.stderr!)]);
}

async function spawnToFile(dir: string, file: string, args: string[], extra?: (out: number) => void, env?: NodeJS.ProcessEnv): Promise<{ status: number; text: string }> {
  const outFile = join(dir, `${file}.out`);
  const out = openSync(outFile, 'w');
  const devnull = openSync('/dev/null', 'r');
  let pid: number;
  try {
    extra?.(out);
    pid = posixSpawn(file, args, { stdio: [devnull, out, out], cwd: dir, env });
  } finally {
    closeSync(out);
    closeSync(devnull);
  }
  const exit = await new ChildExits().wait(pid);
  return { status: exit.status, text: readFileSync(outFile, 'utf8') };
}

test('posixSpawn: the child gets only its stdio, in the cwd asked for, with its exit status', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-spawn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // dup() gives a descriptor without close-on-exec, as native libraries leave theirs: the child
  // must not get it all the same.
  const dup = koffi.load('libc.so.6').func('int dup(int)') as (fd: number) => number;
  let leaked = -1;
  const r = await spawnToFile(dir, 'sh', ['-c', 'pwd; ls /proc/self/fd | sort -n | tr "\\n" " "; exit 7'], (out) => {
    leaked = dup(out);
  });
  closeSync(leaked);
  assert.ok(leaked > 2);
  assert.equal(r.status, 7);
  const [cwd, fds] = r.text.trim().split('\n');
  assert.equal(cwd, dir);
  // ls lists its own directory descriptor too, always above the ones it inherited.
  const listed = fds!.trim().split(' ').map(Number);
  assert.deepEqual(listed.slice(0, 3), [0, 1, 2]);
  assert.ok(!listed.includes(leaked), `the child inherited fd ${leaked}: ${fds}`);
});

test('posixSpawn: without env the child gets the environment as it is now, with env only that', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-spawn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  process.env.CTRD_SPAWN_TEST = 'set after start';
  delete process.env.CTRD_SPAWN_GONE;
  t.after(() => delete process.env.CTRD_SPAWN_TEST);
  const inherited = await spawnToFile(dir, 'sh', ['-c', 'echo "$CTRD_SPAWN_TEST|${CTRD_SPAWN_GONE-unset}|$PATH"']);
  assert.equal(inherited.text, `set after start|unset|${process.env.PATH}\n`);
  const given = await spawnToFile(dir, 'env', [], undefined, { ONLY: 'this' });
  assert.equal(given.text, 'ONLY=this\n');
});

test('posixSpawn: the child starts with no signal ignored or blocked', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-spawn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Node ignores SIGPIPE; glibc's spawn ignores its own internal signals unless told otherwise.
  // grep reads its own status: no shell in between that could block signals around a fork.
  const r = await spawnToFile(dir, 'grep', ['-E', '^Sig(Ign|Blk)', '/proc/self/status']);
  assert.equal(r.status, 0);
  assert.match(r.text, /^SigIgn:\s+0+$/m);
  assert.match(r.text, /^SigBlk:\s+0+$/m);
});

test('posixSpawn: a missing program fails with ENOENT', { skip }, () => {
  assert.throws(() => posixSpawn('ctrd-no-such-program', [], { stdio: [0, 1, 2] }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('spawnPiped and ChildExits: input in, output and exit status out', { skip }, async () => {
  const child = spawnPiped('sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: Buffer.from('hello') });
  const [[stdout, stderr], exit] = await Promise.all([collect(child), new ChildExits().wait(child.pid)]);
  assert.equal(stdout, 'hello');
  assert.equal(stderr, 'oops\n');
  assert.equal(exit.status, 3);
});

test('ChildExits reports a signal as 128 + its number', { skip }, async () => {
  const child = spawnPiped('sh', ['-c', 'kill -KILL $$']);
  const [, exit] = await Promise.all([collect(child), new ChildExits().wait(child.pid)]);
  assert.equal(exit.status, 137);
});

test('Reaper.run through posix_spawn: output, input, exit codes, and no wait on a leftover holder of the pipes', { skip }, async (t) => {
  const reaper = new Reaper();
  reaper.start();
  t.after(() => reaper.stop());
  assert.deepEqual(await reaper.run('sh', ['-c', 'echo out; echo err >&2; exit 4']), { code: 4, stdout: 'out\n', stderr: 'err\n' });
  assert.deepEqual(await reaper.run('cat', [], { input: 'piped' }), { code: 0, stdout: 'piped', stderr: '' });
  assert.equal((await reaper.run('sh', ['-c', 'kill -TERM $$'])).code, 143);
  assert.equal((await reaper.run('true', [], { stdio: ['ignore', 'ignore', 'ignore'] })).code, 0);
  await assert.rejects(reaper.run('ctrd-no-such-program', []), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  const started = Date.now();
  const r = await reaper.run('sh', ['-c', 'sleep 3 & echo left']);
  assert.equal(r.stdout, 'left\n');
  assert.ok(Date.now() - started < 2000, 'run returned without waiting for the background sleep');
});

test('spawnPiped: fd3 reaches the child as its fd 3, readable by path, and nothing else above stdio', { skip }, async () => {
  // Larger than a pipe's buffer: the write must not wait for the child before it starts.
  const spec = JSON.stringify({ args: ['x'], pad: 'p'.repeat(200_000) });
  const child = spawnPiped('sh', ['-c', 'ls /proc/self/fd | sort -n | tr "\\n" " " >&2; cat /proc/self/fd/3'], { stdio: ['ignore', 'pipe', 'pipe'], fd3: spec });
  const [[stdout, stderr], exit] = await Promise.all([collect(child), new ChildExits().wait(child.pid)]);
  assert.equal(exit.status, 0);
  assert.equal(stdout, spec);
  // ls lists its own directory descriptor too, always above the ones it inherited.
  assert.deepEqual(stderr.trim().split(' ').map(Number).slice(0, 4), [0, 1, 2, 3]);
  assert.equal(stderr.trim().split(' ').length, 5, `the child's descriptors: ${stderr}`);
});

test('Reaper.run: fd3 through posix_spawn and through Node', { skip }, async (t) => {
  const script = ['-c', 'cat /proc/self/fd/3'];
  // Not started: the reaper runs the command through Node's spawn.
  const viaNode = new Reaper();
  assert.deepEqual(await viaNode.run('sh', script, { fd3: '{"n":1}' }), { code: 0, stdout: '{"n":1}', stderr: '' });
  const direct = new Reaper();
  direct.start();
  t.after(() => direct.stop());
  assert.deepEqual(await direct.run('sh', script, { fd3: '{"n":2}' }), { code: 0, stdout: '{"n":2}', stderr: '' });
  // A child that never reads fd 3 still runs to its end.
  assert.equal((await direct.run('true', [], { fd3: 'x'.repeat(100_000) })).code, 0);
});
