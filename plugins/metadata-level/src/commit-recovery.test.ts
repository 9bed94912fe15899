import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createNativeSnapshotter } from '@ctrd/snapshotter-native';
import { Kind, type Snapshotter } from '@ctrd/snapshots';
import { MemoryLevel } from 'memory-level';
import { openMetadataDB } from './metadata-db.js';

/**
 * A backend whose commit, once `armed.on` is set, fails after (or instead of) committing, as a
 * crash between the two writes would leave it.
 */
function failingCommit(backend: Snapshotter, after: boolean, armed: { on: boolean }): Snapshotter {
  return new Proxy(backend, {
    get(target, prop, receiver) {
      if (prop !== 'commit') return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<Snapshotter['commit']>) => {
        if (!armed.on) return target.commit(...args);
        if (after) await target.commit(...args);
        throw new Error('crash');
      };
    },
  });
}

for (const after of [true, false]) {
  test(`recover ${after ? 'finishes a commit the backend completed' : 'drops the mark of a commit that never happened'}`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'ctrd-recover-'));
    try {
      const backend = await createNativeSnapshotter(root);
      const db = await openMetadataDB(new MemoryLevel<string, string>());
      await db.leases.create('ns', { id: 'l1' });
      const armed = { on: false };
      const sn = db.addSnapshotter('native', failingCommit(backend, after, armed));
      const view = sn.forNamespace('ns', { lease: 'l1' });
      await view.prepare('base-a');
      await view.commit('base', 'base-a');
      await view.prepare('a', 'base');
      armed.on = true;
      await assert.rejects(view.commit('b', 'a', { labels: { x: 'y' } }), /crash/);
      assert.equal(await sn.recover(), after ? 1 : 0);
      const names: string[] = [];
      await view.walk((i) => void names.push(`${i.name}:${i.kind}`));
      assert.deepEqual(names, after ? [`b:${Kind.Committed}`, `base:${Kind.Committed}`] : [`a:${Kind.Active}`, `base:${Kind.Committed}`]);
      if (after) {
        assert.deepEqual((await view.stat('b')).labels, { x: 'y' });
        const held = (await db.leases.listResources('ns', 'l1')).map((r) => r.id);
        assert.deepEqual(held, ['b', 'base']);
      }
      assert.equal(await sn.recover(), 0, 'nothing left to recover');
      // The base's list of children names the snapshot as it now is.
      await assert.rejects(view.remove('base'), /cannot remove snapshot with child/);
      await view.remove(after ? 'b' : 'a');
      await view.remove('base');
      await backend.close();
      await db.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
