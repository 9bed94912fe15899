import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { snapshotterSuite } from '@ctrd/snapshots/testsuite';
import { UPPERDIR_LABEL, createOverlaySnapshotter } from './overlay-snapshotter.js';
import { overlayUnsupportedReason } from './supported.js';

// Probed once, before the suite registers, on the filesystem the cases will use.
const probe = mkdtempSync(join(tmpdir(), 'overlay-probe-'));
const reason = await overlayUnsupportedReason(probe).finally(() => rmSync(probe, { recursive: true, force: true }));

snapshotterSuite('overlayfs', async (root) => ({ snapshotter: await createOverlaySnapshotter(root) }), { skip: () => reason });

describe('overlayfs specifics', { skip: reason ?? false }, () => {
  let root = '';
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'overlay-specific-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('mounts follow containerd: bind without parents, overlay with them, bind ro for a one-parent view', async () => {
    const sn = await createOverlaySnapshotter(join(root, 'm'), { mountOptions: ['volatile'] });
    try {
      const [m0] = await sn.prepare('a', undefined);
      assert.deepEqual({ ...m0, source: '' }, { type: 'bind', source: '', options: ['rw', 'rbind'] });
      await sn.commit('c1', 'a');
      const [v] = await sn.view('v', 'c1');
      assert.deepEqual(v!.options, ['ro', 'rbind']);
      assert.match(v!.source, /\/snapshots\/\d+\/fs$/);
      const [o] = await sn.prepare('b', 'c1');
      assert.equal(o!.type, 'overlay');
      assert.ok(o!.options.some((x) => x.startsWith('upperdir=')));
      assert.ok(o!.options.some((x) => x.startsWith('workdir=')));
      assert.ok(o!.options.includes(`lowerdir=${v!.source}`));
      assert.ok(o!.options.includes('volatile'));
      if (existsSync('/sys/module/overlay/parameters/index')) assert.ok(o!.options.includes('index=off'));
      for (const d of [sn.root, join(sn.root, 'snapshots')]) {
        assert.equal(statSync(d).mode & 0o777, 0o711, `${d} is traversable`);
      }
    } finally {
      await sn.close();
    }
  });

  test('a directory left by a crash before its record was committed does not block the next prepare', async () => {
    const at = join(root, 'orphan');
    let sn = await createOverlaySnapshotter(at);
    const [m] = await sn.prepare('a', undefined);
    await sn.close();
    const next = String(Number(/\/snapshots\/(\d+)\/fs$/.exec(m!.source)![1]) + 1);
    mkdirSync(join(at, 'snapshots', next, 'fs'), { recursive: true });
    writeFileSync(join(at, 'snapshots', next, 'fs', 'half-made'), '');
    sn = await createOverlaySnapshotter(at);
    try {
      const [b] = await sn.prepare('b', undefined);
      assert.doesNotMatch(b!.source, new RegExp(`/snapshots/${next}/`));
      await sn.cleanup();
      assert.equal(existsSync(join(at, 'snapshots', next)), false, 'cleanup removes the orphan');
    } finally {
      await sn.close();
    }
  });

  test('async remove leaves directories until cleanup', async () => {
    const sn = await createOverlaySnapshotter(join(root, 'async'), { asyncRemove: true });
    try {
      await sn.prepare('x', undefined);
      const dirs = () => readdirSync(join(sn.root, 'snapshots'));
      assert.equal(dirs().length, 1);
      await sn.remove('x');
      assert.equal(dirs().length, 1, 'directory kept after remove');
      await sn.cleanup();
      assert.equal(dirs().length, 0, 'directory gone after cleanup');
    } finally {
      await sn.close();
    }
  });

  test('upperdir label is reported by stat, walk and update', async () => {
    const sn = await createOverlaySnapshotter(join(root, 'label'), { upperdirLabel: true });
    try {
      await sn.prepare('x', undefined, { labels: { a: 'b' } });
      const st = await sn.stat('x');
      assert.match(st.labels[UPPERDIR_LABEL]!, /\/snapshots\/\d+\/fs$/);
      assert.equal(st.labels.a, 'b');
      const up = await sn.update({ name: 'x', labels: { c: 'd' } });
      assert.equal(up.labels[UPPERDIR_LABEL], st.labels[UPPERDIR_LABEL]);
      let walked = '';
      await sn.walk((i) => {
        walked = i.labels[UPPERDIR_LABEL] ?? '';
      });
      assert.equal(walked, st.labels[UPPERDIR_LABEL]);
    } finally {
      await sn.close();
    }
  });
});
