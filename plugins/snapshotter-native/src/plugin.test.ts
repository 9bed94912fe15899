import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { InitContext } from '@ctrd/plugin';
import { type NativeConfig, nativePlugin } from './plugin.js';

test('nativePlugin registers as io.containerd.snapshotter.v1.native and exports its root', async () => {
  assert.equal(nativePlugin.type, 'io.containerd.snapshotter.v1');
  assert.equal(nativePlugin.id, 'native');
  assert.equal(nativePlugin.hostPlatform, true);
  const dir = mkdtempSync(join(tmpdir(), 'native-plugin-'));
  try {
    const meta = { platforms: [], exports: {} as Record<string, string>, capabilities: [] };
    const ic = { rootDir: dir, config: { root_path: '' }, meta } as unknown as InitContext<NativeConfig>;
    const sn = await nativePlugin.init(ic);
    assert.equal(meta.exports.root, dir);
    await sn.prepare('k');
    assert.equal((await sn.stat('k')).name, 'k');
    await sn.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
