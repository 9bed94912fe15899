import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, constants, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isUnavailable } from '@ctrd/errdefs';
import { ProcessIO } from './process-io.js';
import { Reaper } from './reaper.js';
import { TaskService } from './task-service.js';
import { mkfifo } from './testing.js';

describe('task creation in the shim server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-create-path-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses Create with UnavailableError once the server is exiting', async () => {
    const svc = new TaskService({ namespace: 'ns', reaper: new Reaper(), events: { publish: () => {} }, accepting: () => false });
    const req = { id: 'x', bundle: dir, rootfs: [], terminal: false, stdin: '', stdout: '', stderr: '', checkpoint: '', parentCheckpoint: '', options: undefined };
    await assert.rejects(svc.create(req), (err) => isUnavailable(err));
    assert.equal(svc.taskCount, 0, 'nothing is left behind');
    svc.close();
  });

  it('ends the process\'s stdin when the client closes the stdin fifo', { timeout: 10_000 }, async () => {
    const stdin = join(dir, 'stdin');
    mkfifo(stdin);
    const io = await ProcessIO.open({ stdin, stdout: '', stderr: '', terminal: false, containerId: 'c', namespace: 'ns' }, new Reaper());
    const child = spawn('wc', ['-l'], { stdio: [io.stdio[0] as number, 'pipe', 'ignore'] });
    await io.started();
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    // The writer comes after the shim opened its end, as a client's copy does, then goes.
    const w = openSync(stdin, constants.O_WRONLY);
    writeSync(w, 'a\nb\nc\n');
    closeSync(w);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    await io.close();
    assert.equal(code, 0);
    assert.equal(out.trim(), '3');
  });
});
