import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { snapshotterSuite } from '@ctrd/snapshots/testsuite';
import { createNativeSnapshotter } from './native-snapshotter.js';

snapshotterSuite('native', async (root) => ({ snapshotter: await createNativeSnapshotter(root) }));

test('native: a directory left by a crash before its record was committed does not block the next prepare', async () => {
  const at = mkdtempSync(join(tmpdir(), 'native-orphan-'));
  after(() => rmSync(at, { recursive: true, force: true }));
  let sn = await createNativeSnapshotter(at);
  const [m] = await sn.prepare('a', undefined);
  await sn.close();
  const next = String(Number(/\/snapshots\/(\d+)$/.exec(m!.source)![1]) + 1);
  mkdirSync(join(at, 'snapshots', next));
  writeFileSync(join(at, 'snapshots', next, 'half-copied'), '');
  sn = await createNativeSnapshotter(at);
  try {
    const [b] = await sn.prepare('b', undefined);
    assert.notEqual(b!.source, join(at, 'snapshots', next));
    await sn.cleanup!();
    assert.equal(existsSync(join(at, 'snapshots', next)), false, 'cleanup removes the orphan');
  } finally {
    await sn.close();
  }
});
