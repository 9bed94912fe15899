import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shimServerPaths } from './address.js';
import { alive } from './testing.js';

const run = promisify(execFile);
const launcher = fileURLToPath(new URL('../bin/containerd-shim-ctrd-v1', import.meta.url));

// A stand-in for node: records each server start, binds the socket (removing a stale one, as the
// server does), writes the pid file, reports ready on the descriptor named by -ready-fd and stays
// up. Its arguments name the socket, as the server's do.
const FAKE_NODE = `#!/bin/sh
echo "$@" >> "$FAKE_LOG"
for a; do [ "$prev" = -socket ] && sock=$a; [ "$prev" = -ready-fd ] && ready=$a; prev=$a; done
exec python3 -c 'import os,socket,sys,time; os.path.exists(sys.argv[1]) and os.unlink(sys.argv[1]); s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); open(sys.argv[2]+".tmp","w").write(sys.argv[3]); os.rename(sys.argv[2]+".tmp", sys.argv[2]); sys.argv[4] and (os.write(int(sys.argv[4]), b"ready\\n"), os.close(int(sys.argv[4]))); time.sleep(60)' "$sock" "\${sock%.sock}.pid" $$ "$ready"
`;

describe('launcher', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-launcher-'));
  const pids: number[] = [];
  after(() => {
    for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts one server per address and namespace and prints the address containerd dials', async (t) => {
    if ((await run('sh', ['-c', 'command -v python3']).catch(() => undefined)) === undefined) return t.skip('python3 missing');
    const fake = join(dir, 'fake-node');
    writeFileSync(fake, FAKE_NODE);
    chmodSync(fake, 0o755);
    const env = { ...process.env, CTRD_SHIM_NODE: fake, CTRD_SHIM_RUN_DIR: join(dir, 'run'), FAKE_LOG: join(dir, 'log') };
    const start = async (ns: string, id: string): Promise<string> =>
      (await run(launcher, ['-namespace', ns, '-address', '/x.sock', '-publish-binary', '/bin/true', '-id', id, 'start'], { env })).stdout.trim();
    const a1 = await start('n1', 'a');
    const a2 = await start('n1', 'b');
    const b1 = await start('n2', 'c');
    assert.equal(a1, shimServerPaths('/x.sock', 'n1', join(dir, 'run')).address);
    assert.equal(a2, a1);
    assert.equal(b1, shimServerPaths('/x.sock', 'n2', join(dir, 'run')).address);
    const starts = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');
    assert.equal(starts.length, 2, 'one server per namespace');
    assert.match(starts[0], /shim-server\.cjs -namespace n1 -address \/x\.sock -socket \S+ -ready-fd 3$/);
    for (const ns of ['n1', 'n2']) pids.push(Number(readFileSync(shimServerPaths('/x.sock', ns, join(dir, 'run')).pid, 'utf8')));
    assert.deepEqual(
      ['a', 'b'].map((id) => readFileSync(join(shimServerPaths('/x.sock', 'n1', join(dir, 'run')).pending, id), 'utf8')),
      ['', ''],
      'a claim per id handed out',
    );
  });

  /** standIn sets up a run directory `run-<name>` served by the stand-in node, logging starts to `log-<name>`. */
  const standIn = (name: string, address: string) => {
    const fake = join(dir, 'fake-node');
    writeFileSync(fake, FAKE_NODE);
    chmodSync(fake, 0o755);
    const runDir = join(dir, `run-${name}`);
    const log = join(dir, `log-${name}`);
    mkdirSync(runDir, { recursive: true });
    return { env: { ...process.env, CTRD_SHIM_NODE: fake, CTRD_SHIM_RUN_DIR: runDir, FAKE_LOG: log }, log, paths: shimServerPaths(address, 'n', runDir) };
  };
  const lacksTools = async () => (await run('sh', ['-c', 'command -v python3 && command -v flock']).catch(() => undefined)) === undefined;

  it('takes the lock again when an exiting server removed the lock file it waited on', async (t) => {
    if (await lacksTools()) return t.skip('python3 or flock missing');
    const { env, paths } = standIn('relock', '/y.sock');
    // Plays a server on its way out: holds the lock, removes the lock file, then lets go.
    const holder = run('sh', ['-c', `exec 9>>"$0"; flock 9; touch "$0.held"; sleep 0.5; rm -f "$0"`, paths.lock]);
    while (!existsSync(`${paths.lock}.held`)) await new Promise((r) => setTimeout(r, 10));
    const started = await run(launcher, ['-namespace', 'n', '-address', '/y.sock', '-publish-binary', '/bin/true', '-id', 'r1', 'start'], { env });
    await holder;
    assert.equal(started.stdout.trim(), paths.address);
    assert.ok(existsSync(paths.lock), 'the launcher locked a lock file that is still at its path');
    pids.push(Number(readFileSync(paths.pid, 'utf8')));
  });

  it('starts a new server when the pid file of a killed one names another live process', async (t) => {
    if (await lacksTools()) return t.skip('python3 or flock missing');
    const { env, log, paths } = standIn('reused', '/z.sock');
    // What a server killed with SIGKILL leaves: its socket (nobody listening) and its pid file,
    // the pid now another process's (this test's).
    await run('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', paths.socket]);
    writeFileSync(paths.pid, String(process.pid));
    const started = await run(launcher, ['-namespace', 'n', '-address', '/z.sock', '-publish-binary', '/bin/true', '-id', 'z1', 'start'], { env });
    assert.equal(started.stdout.trim(), paths.address);
    assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 1, 'a server was started');
    const pid = Number(readFileSync(paths.pid, 'utf8'));
    pids.push(pid);
    assert.notEqual(pid, process.pid);
    assert.ok(alive(pid));
  });

  it('fails at once, naming the log, when the server exits before it is ready', async () => {
    const runDir = join(dir, 'run-dead');
    const t0 = Date.now();
    await assert.rejects(
      run(launcher, ['-namespace', 'n', '-address', '/d.sock', '-id', 'd1', 'start'], { env: { ...process.env, CTRD_SHIM_NODE: '/bin/false', CTRD_SHIM_RUN_DIR: runDir } }),
      (err: Error & { stderr: string }) => err.stderr.includes(`shim server did not start; see ${shimServerPaths('/d.sock', 'n', runDir).log}`),
    );
    assert.ok(Date.now() - t0 < 5_000, 'no wait for a server that is gone');
  });

  it('rejects a start without namespace and unknown actions', async () => {
    await assert.rejects(run(launcher, ['-id', 'x', 'start'], { env: { ...process.env, CTRD_SHIM_RUN_DIR: join(dir, 'run') } }));
    await assert.rejects(run(launcher, ['-namespace', 'n', 'bogus']));
  });
});
