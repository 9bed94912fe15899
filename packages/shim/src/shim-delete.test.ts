import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeleteResponse } from './gen/containerd/runtime/v2/task/shim.js';
import { BUNDLE_STATE_FILE } from './task-service.js';

const DELETE = fileURLToPath(new URL('./bin/shim-delete.js', import.meta.url));

/** runDelete runs the `delete` subcommand on `bundle` with a stand-in runc that knows no container. */
function runDelete(bundle: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [DELETE, '-namespace', 'n', '-id', 'gone', '-bundle', bundle, 'delete'], {
      encoding: 'buffer',
      env: { ...process.env, CTRD_SHIM_RUNC: '/bin/false' },
    }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString() }));
  });
}

test('delete answers for a bundle whose state file a kill left empty or missing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shim-delete-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const state of ['', undefined]) {
    rmSync(join(dir, BUNDLE_STATE_FILE), { force: true });
    if (state !== undefined) writeFileSync(join(dir, BUNDLE_STATE_FILE), state);
    const r = await runDelete(dir);
    assert.equal(r.code, 0, `state ${JSON.stringify(state)}: ${r.stderr}`);
    const res = DeleteResponse.decode(r.stdout);
    assert.equal(res.exitStatus, 137);
    assert.equal(res.pid, 0);
  }
});
