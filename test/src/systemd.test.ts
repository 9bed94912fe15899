import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, missingTool } from './harness.js';

// This machine has no systemd: a python3 datagram listener stands in for the service manager.
const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
for _ in range(2):
    print(s.recv(4096).decode(), flush=True)
`;

test('ctrd notifies READY=1 once serving and STOPPING=1 on SIGTERM, then exits 0', { skip: missingTool('python3') }, async () => {
  const d = await TestDaemon.create();
  const sock = join(d.dir, 'notify.sock');
  const listener = spawn('python3', ['-c', LISTENER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  listener.stdout!.on('data', (b) => (out += b));
  const lines = async (n: number) => {
    const deadline = Date.now() + 15_000;
    // ''.split('\n') is one (empty) line: count the lines the listener has written.
    while (out.split('\n').filter(Boolean).length < n) {
      if (Date.now() > deadline) {
        const state = `socket ${existsSync(sock) ? 'present' : 'gone'}, listener ${listener.exitCode === null ? 'running' : `exited ${listener.exitCode}`}`;
        throw new Error(`listener saw only: ${out}(${state})\nctrd's output:\n${d.output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await lines(1);
    await d.boot({ env: { NOTIFY_SOCKET: sock } });
    await lines(2);
    assert.equal(out.trim().split('\n')[1], 'READY=1');
    assert.equal(await d.stop('SIGTERM'), 0);
    await lines(3);
    assert.equal(out.trim().split('\n')[2], 'STOPPING=1');
  } finally {
    listener.kill();
    await d.dispose();
  }
});
