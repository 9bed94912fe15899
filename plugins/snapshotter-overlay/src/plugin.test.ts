import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMountPoint, mount, unmountAll } from '@ctrd/mount';
import { type InitContext, isSkipPlugin } from '@ctrd/plugin';
import { type OverlayConfig, overlayPlugin } from './plugin.js';
import { overlayUnsupportedReason } from './supported.js';

test('overlayPlugin loads where overlay mounts and is skipped with the reason elsewhere', async () => {
  assert.equal(overlayPlugin.type, 'io.containerd.snapshotter.v1');
  assert.equal(overlayPlugin.id, 'overlayfs');
  assert.deepEqual(Object.keys(overlayPlugin.config!.defaults).sort(), ['mount_options', 'root_path', 'slow_chown', 'sync_remove', 'upperdir_label']);
  const dir = mkdtempSync(join(tmpdir(), 'overlay-plugin-'));
  try {
    const reason = await overlayUnsupportedReason(join(dir, 'probe'));
    const meta = { platforms: [], exports: {} as Record<string, string>, capabilities: [] };
    const config = { ...overlayPlugin.config!.defaults, sync_remove: true };
    const ic = { rootDir: join(dir, 'root'), config, meta } as unknown as InitContext<OverlayConfig>;
    if (reason !== undefined) {
      await assert.rejects(Promise.resolve().then(() => overlayPlugin.init(ic)), (err: unknown) => isSkipPlugin(err));
      return;
    }
    const sn = await overlayPlugin.init(ic);
    assert.equal(meta.exports.root, join(dir, 'root'));
    await sn.prepare('k');
    await sn.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a probe mount left by a daemon killed during start is detached and removed by the next probe', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'overlay-probe-'));
  try {
    if ((await overlayUnsupportedReason(join(dir, 'first'))) !== undefined) {
      t.skip('overlay cannot be mounted here');
      return;
    }
    // What a kill -9 between the probe's mount and its unmount leaves.
    const left = join(dir, 'overlay-check-AbC123');
    for (const d of ['lower1', 'upper', 'work', 'merged']) mkdirSync(join(left, d), { recursive: true });
    mount({ type: 'overlay', source: 'overlay', options: [`lowerdir=${join(left, 'lower1')}`, `upperdir=${join(left, 'upper')}`, `workdir=${join(left, 'work')}`] }, join(left, 'merged'));
    assert.ok(isMountPoint(join(left, 'merged')));
    assert.equal(await overlayUnsupportedReason(dir), undefined);
    assert.equal(isMountPoint(join(left, 'merged')), false);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('overlay-check-')), []);
  } finally {
    await unmountAll(join(dir, 'overlay-check-AbC123', 'merged'), { detach: true }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
