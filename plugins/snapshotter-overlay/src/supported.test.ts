import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { overlayInKernel, overlayUnsupportedReason } from './supported.js';

/** countingProbe stands in for the mount probe and answers `reason`. */
function countingProbe(reason?: string) {
  const probe = async () => {
    probe.calls++;
    return reason;
  };
  probe.calls = 0;
  return probe;
}

function scratch(t: TestContext): string | undefined {
  if (!overlayInKernel() || process.getuid?.() !== 0) {
    t.skip('the probe runs only as root with overlay in the kernel');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'overlay-verdict-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a successful probe is recorded and trusted by the next start on the same boot', async (t) => {
  const root = scratch(t);
  if (root === undefined) return;
  const probe = countingProbe();
  assert.equal(await overlayUnsupportedReason(root, probe), undefined);
  assert.equal(probe.calls, 1);
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  assert.match(readFileSync(join(root, 'overlay-supported'), 'utf8'), new RegExp(`^boot ${boot} dev \\d+\\n$`));
  assert.equal(await overlayUnsupportedReason(root, probe), undefined);
  assert.equal(probe.calls, 1);
});

test('a verdict from another boot or filesystem is probed again', async (t) => {
  const root = scratch(t);
  if (root === undefined) return;
  writeFileSync(join(root, 'overlay-supported'), 'boot 00000000-0000-0000-0000-000000000000 dev 1\n');
  const probe = countingProbe();
  assert.equal(await overlayUnsupportedReason(root, probe), undefined);
  assert.equal(probe.calls, 1);
  assert.doesNotMatch(readFileSync(join(root, 'overlay-supported'), 'utf8'), /boot 0{8}-/);
});

test('a failed probe is reported every time and removes an outdated verdict', async (t) => {
  const root = scratch(t);
  if (root === undefined) return;
  writeFileSync(join(root, 'overlay-supported'), 'boot 00000000-0000-0000-0000-000000000000 dev 1\n');
  const probe = countingProbe('overlay mount failed');
  assert.equal(await overlayUnsupportedReason(root, probe), 'overlay mount failed');
  assert.equal(existsSync(join(root, 'overlay-supported')), false);
  assert.equal(await overlayUnsupportedReason(root, probe), 'overlay mount failed');
  assert.equal(probe.calls, 2);
});

test('a verdict that cannot be recorded fails nothing', async (t) => {
  const root = scratch(t);
  if (root === undefined) return;
  // A directory in the verdict's place: writing it fails with EISDIR, removing it with ERR_FS_EISDIR.
  mkdirSync(join(root, 'overlay-supported'));
  const probe = countingProbe();
  assert.equal(await overlayUnsupportedReason(root, probe), undefined);
  assert.equal(await overlayUnsupportedReason(root, countingProbe('overlay mount failed')), 'overlay mount failed');
  assert.equal(await overlayUnsupportedReason(root, probe), undefined);
  assert.equal(probe.calls, 2);
});
