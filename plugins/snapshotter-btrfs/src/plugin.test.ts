import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type InitContext, isSkipPlugin } from '@ctrd/plugin';
import { type BtrfsConfig, btrfsPlugin } from './plugin.js';

test('btrfsPlugin is skipped with the reason when its root is not on btrfs', async (t) => {
  assert.equal(btrfsPlugin.type, 'io.containerd.snapshotter.v1');
  assert.equal(btrfsPlugin.id, 'btrfs');
  const dir = mkdtempSync(join(tmpdir(), 'btrfs-plugin-'));
  try {
    if (execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim() === 'btrfs') {
      t.skip('the temp directory is itself on btrfs');
      return;
    }
    const meta = { platforms: [], exports: {}, capabilities: [] };
    const ic = { rootDir: join(dir, 'root'), config: { root_path: '' }, meta } as unknown as InitContext<BtrfsConfig>;
    await assert.rejects(Promise.resolve().then(() => btrfsPlugin.init(ic)), (err: unknown) => {
      assert.ok(isSkipPlugin(err));
      assert.match((err as Error).message, /skip plugin: .*must be a btrfs filesystem/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
