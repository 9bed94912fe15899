import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireSameUser, type PeerCredentials } from './peer-check.js';

test('requireSameUser reads the peer of a real unix socket and admits this user', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-peer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 's');
  const refused: (PeerCredentials | undefined)[] = [];
  const check = requireSameUser((p) => refused.push(p));
  const verdict = new Promise<boolean>((resolve) => {
    const server = createServer((sock: Socket) => {
      resolve(check(sock));
      sock.destroy();
      server.close();
    });
    server.listen(path, () => createConnection(path).on('error', () => {}));
  });
  assert.equal(await verdict, true);
  assert.deepEqual(refused, []);
});

test('requireSameUser refuses another uid or gid, and a peer it cannot read', () => {
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  const sock = { _handle: { fd: 42 } } as unknown as Socket;
  const refused: (PeerCredentials | undefined)[] = [];
  const as = (c: PeerCredentials) => requireSameUser((p) => refused.push(p), () => c)(sock);
  assert.equal(as({ pid: 1, uid, gid }), true);
  assert.equal(as({ pid: 2, uid: uid + 1, gid }), false);
  assert.equal(as({ pid: 3, uid, gid: gid + 1 }), false);
  assert.equal(requireSameUser((p) => refused.push(p), () => { throw new Error('EBADF'); })(sock), false);
  assert.equal(requireSameUser((p) => refused.push(p))({} as Socket), false);
  assert.deepEqual(refused.map((p) => p?.pid), [2, 3, undefined, undefined]);
});

test('a peer of another user is refused end to end', { skip: process.getuid?.() !== 0 ? 'needs root to connect as another user' : spawnSync('setpriv', ['--version']).status !== 0 ? 'setpriv (util-linux) missing' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-peer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const path = join(dir, 's');
  const check = requireSameUser();
  const verdict = new Promise<boolean>((resolve) => {
    const server = createServer((sock: Socket) => {
      resolve(check(sock));
      sock.destroy();
      server.close();
    });
    server.listen(path, () => {
      chmodSync(path, 0o777);
      spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `require('net').createConnection(${JSON.stringify(path)}).on('error',()=>{}).on('connect',function(){setTimeout(()=>this.destroy(),200)})`]);
    });
  });
  assert.equal(await verdict, false);
});
