import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Info, Kind, type Snapshotter } from '../snapshotter.js';
import { apply, checkDirectoryEqualWithApplier, createDir, createFile, removeAll } from './fstest.js';
import { GC_ROOT, type SuiteCase, mountAt, unmountAt } from './harness.js';

async function statAll(sn: Snapshotter): Promise<Map<string, Info>> {
  const out = new Map<string, Info>();
  await sn.walk((i) => {
    out.set(i.name, i);
  });
  return out;
}

const basic: SuiteCase = {
  name: 'Basic',
  mounts: true,
  async run({ sn, work }) {
    const initial = apply(
      createFile('/foo', 'foo\n', 0o777),
      createDir('/a', 0o755),
      createDir('/a/b', 0o755),
      createDir('/a/b/c', 0o755),
    );
    const diff = apply(createFile('/bar', 'bar\n', 0o777), createFile('/foo', 'bar\n', 0o777), removeAll('/a/b'));

    const preparing = join(work, 'preparing');
    await mountAt(await sn.prepare(preparing, undefined, GC_ROOT), preparing);
    try {
      await initial(preparing);
    } finally {
      await unmountAt(preparing);
    }
    const committed = join(work, 'committed');
    await sn.commit(committed, preparing, GC_ROOT);
    const si = await sn.stat(committed);
    assert.equal(si.parent, undefined);
    assert.equal(si.kind, Kind.Committed);
    await assert.rejects(sn.stat(preparing), `${preparing} should no longer be available after commit`);

    const next = join(work, 'nextlayer');
    await mountAt(await sn.prepare(next, committed, GC_ROOT), next);
    try {
      await checkDirectoryEqualWithApplier(next, initial, join(work, 'expect-1'));
      await diff(next);
    } finally {
      await unmountAt(next);
    }
    const ni = await sn.stat(next);
    assert.equal(ni.parent, committed);
    assert.equal(ni.kind, Kind.Active);

    const nextCommitted = join(work, 'committed-next');
    await sn.commit(nextCommitted, next, GC_ROOT);
    const si2 = await sn.stat(nextCommitted);
    assert.equal(si2.parent, committed);
    assert.equal(si2.kind, Kind.Committed);
    await assert.rejects(sn.stat(next));

    const walked = await statAll(sn);
    assert.deepEqual(walked.get(si.name), si);
    assert.deepEqual(walked.get(si2.name), si2);

    const nextnext = join(work, 'nextnextlayer');
    await mountAt(await sn.view(nextnext, nextCommitted, GC_ROOT), nextnext);
    try {
      await checkDirectoryEqualWithApplier(nextnext, apply(initial, diff), join(work, 'expect-2'));
    } finally {
      await unmountAt(nextnext);
    }
    await sn.remove(nextnext);
    await assert.rejects(sn.remove(committed), /remove/);
    await sn.remove(nextCommitted);
    await sn.remove(committed);
  },
};

async function prepareMounted(sn: Snapshotter, work: string, name: string, parent?: string): Promise<string> {
  const dir = join(work, name);
  await mountAt(await sn.prepare(dir, parent, GC_ROOT), dir);
  return dir;
}

const statActive: SuiteCase = {
  name: 'StatActive',
  mounts: true,
  async run({ sn, work }) {
    const preparing = await prepareMounted(sn, work, 'preparing');
    try {
      await writeFile(join(preparing, 'foo'), 'foo\n', { mode: 0o777 });
      const si = await sn.stat(preparing);
      assert.equal(si.name, preparing);
      assert.equal(si.kind, Kind.Active);
      assert.equal(si.parent, undefined);
    } finally {
      await unmountAt(preparing);
    }
  },
};

const statCommitted: SuiteCase = {
  name: 'StatCommitted',
  mounts: true,
  async run({ sn, work }) {
    const preparing = await prepareMounted(sn, work, 'preparing');
    try {
      await writeFile(join(preparing, 'foo'), 'foo\n', { mode: 0o777 });
    } finally {
      await unmountAt(preparing);
    }
    const committed = join(work, 'committed');
    await sn.commit(committed, preparing, GC_ROOT);
    const si = await sn.stat(committed);
    assert.equal(si.name, committed);
    assert.equal(si.kind, Kind.Committed);
    assert.equal(si.parent, undefined);
    const u = await sn.usage(committed);
    assert.ok(u.inodes >= 2, `usage of a layer with one file counts its inodes, got ${u.inodes}`);
    assert.ok(u.size > 0, `usage of a layer with one file has a size, got ${u.size}`);
  },
};

const transitivity: SuiteCase = {
  name: 'Transitivity',
  mounts: true,
  async run({ sn, work }) {
    const preparing = await prepareMounted(sn, work, 'preparing');
    try {
      await writeFile(join(preparing, 'foo'), 'foo\n');
    } finally {
      await unmountAt(preparing);
    }
    const snapA = join(work, 'snapA');
    await sn.commit(snapA, preparing, GC_ROOT);
    const next = await prepareMounted(sn, work, 'next', snapA);
    try {
      await writeFile(join(next, 'foo'), 'foo bar\n');
    } finally {
      await unmountAt(next);
    }
    const snapB = join(work, 'snapB');
    await sn.commit(snapB, next, GC_ROOT);
    const siA = await sn.stat(snapA);
    const siB = await sn.stat(snapB);
    const siParentB = await sn.stat(siB.parent!);
    assert.equal(siA.parent, undefined);
    assert.equal(siB.parent, snapA);
    assert.equal(siParentB.parent, undefined);
  },
};

const prepareViewFailing: SuiteCase = {
  name: 'PrepareViewFailing',
  mounts: false,
  async run({ sn, work }) {
    const preparing = join(work, 'preparing');
    await sn.prepare(preparing, undefined, GC_ROOT);
    const snapA = join(work, 'snapA');
    await sn.commit(snapA, preparing, GC_ROOT);

    const newLayer = join(work, 'newlayer');
    await sn.prepare(newLayer, snapA, GC_ROOT);
    await assert.rejects(sn.view(newLayer, snapA, GC_ROOT), 'a view may not reuse an active key');
    const prepLayer = join(work, 'prepLayer');
    await sn.prepare(prepLayer, snapA, GC_ROOT);
    await assert.rejects(sn.prepare(prepLayer, snapA, GC_ROOT), 'prepare may not reuse a key');
    const viewLayer = join(work, 'viewLayer');
    await sn.view(viewLayer, snapA, GC_ROOT);
    await assert.rejects(sn.view(viewLayer, snapA, GC_ROOT), 'view may not reuse a key');
  },
};

const viewReadonly: SuiteCase = {
  name: 'ViewReadonly',
  mounts: true,
  async run({ sn, work }) {
    const preparing = join(work, 'preparing');
    await sn.prepare(preparing, undefined, GC_ROOT);
    const committed = join(work, 'committed');
    await sn.commit(committed, preparing, GC_ROOT);
    const view = join(work, 'view');
    const m = await sn.view(view, committed, GC_ROOT);
    const mp = join(work, 'view-mount');
    await mountAt(m, mp);
    try {
      await assert.rejects(writeFile(join(mp, 'testfile'), 'testcontent'), 'a write to a view must fail (EROFS)');
    } finally {
      await unmountAt(mp);
    }
    await sn.remove(view);
    await sn.remove(committed);
  },
};

const rootPermission: SuiteCase = {
  name: 'RootPermission',
  mounts: true,
  async run({ sn, work }) {
    const preparing = await prepareMounted(sn, work, 'preparing');
    try {
      const st = await stat(preparing);
      assert.equal((st.mode & 0o777).toString(8), '755');
    } finally {
      await unmountAt(preparing);
    }
  },
};

const closeTwice: SuiteCase = {
  name: 'CloseTwice',
  mounts: false,
  async run({ sn }) {
    const n = `closeTwice-${Math.random().toString(36).slice(2)}`;
    await sn.prepare(`${n}-prepare`, undefined, GC_ROOT);
    await sn.commit(n, `${n}-prepare`, GC_ROOT);
    await sn.remove(n);
    await sn.close();
    await sn.close();
  },
};

/** basicCases are the API cases of the suite: kinds, stat, transitivity, read-only views. */
export const basicCases: readonly SuiteCase[] = [
  basic,
  statActive,
  statCommitted,
  transitivity,
  prepareViewFailing,
  viewReadonly,
  closeTwice,
  rootPermission,
];

