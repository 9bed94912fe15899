import assert from 'node:assert/strict';
import { type Info, Kind, type Snapshotter, listSnapshots } from '../snapshotter.js';
import { GC_ROOT, type SuiteCase, rejectsWith } from './harness.js';

async function baseSnapshots(sn: Snapshotter, prefix = ''): Promise<void> {
  const p = (s: string) => prefix + s;
  await sn.prepare(p('c1-a'), undefined, GC_ROOT);
  await sn.commit(p('c1'), p('c1-a'), GC_ROOT);
  await sn.prepare(p('c2-a'), p('c1'), GC_ROOT);
  await sn.commit(p('c2'), p('c2-a'), GC_ROOT);
  await sn.prepare(p('a1'), p('c2'), GC_ROOT);
  await sn.view(p('v1'), p('c2'), GC_ROOT);
  if (prefix === '') {
    await sn.prepare('a2', undefined, GC_ROOT);
    await sn.view('v2', undefined, GC_ROOT);
  }
}

function assertLabels(actual: Record<string, string>, expected: Record<string, string>, what: string): void {
  assert.deepEqual({ ...actual }, expected, `${what}: labels`);
}

const update: SuiteCase = {
  name: 'Update',
  mounts: false,
  async run({ sn }) {
    const t1 = Date.now();
    await baseSnapshots(sn);
    const t2 = Date.now();
    const cases: [string, Kind, string | undefined][] = [
      ['c1', Kind.Committed, undefined],
      ['c2', Kind.Committed, 'c1'],
      ['a1', Kind.Active, 'c2'],
      ['a2', Kind.Active, undefined],
      ['v1', Kind.View, 'c2'],
      ['v2', Kind.View, undefined],
    ];
    for (const [name, kind, parent] of cases) {
      let st = await sn.stat(name);
      assert.ok(st.createdAt.getTime() >= t1 && st.createdAt.getTime() <= t2, `${name}: created time in range`);
      assert.equal(st.updatedAt.getTime(), st.createdAt.getTime(), `${name}: updated equals created`);
      assert.equal(st.kind, kind);
      assert.equal(st.parent, parent);
      assert.equal(st.name, name);

      const createdAt = st.createdAt.getTime();
      const rootTime = new Date().toISOString();
      let expected: Record<string, string> = { l1: 'v1', l2: 'v2', l3: 'v3', 'containerd.io/gc.root': rootTime };
      const u1 = Date.now();
      st = await sn.update({ ...st, parent: 'doesnotexist', labels: expected });
      const u2 = Date.now();
      assert.equal(st.createdAt.getTime(), createdAt, `${name}: created time kept`);
      assert.ok(st.updatedAt.getTime() >= u1 && st.updatedAt.getTime() <= u2, `${name}: updated time in range`);
      assert.equal(st.kind, kind);
      assert.equal(st.parent, parent, `${name}: parent is not updatable`);
      assert.equal(st.name, name);
      assertLabels(st.labels, expected, name);

      expected = { l1: 'updated', l3: 'v3', 'containerd.io/gc.root': rootTime };
      st = await sn.update({ ...st, labels: { l1: 'updated', l4: 'v4' } }, ['labels.l1', 'labels.l2']);
      assertLabels(st.labels, expected, name);

      expected = { l4: 'v4', 'containerd.io/gc.root': rootTime };
      st = await sn.update({ ...st, labels: expected }, ['labels']);
      assertLabels(st.labels, expected, name);
      assertLabels((await sn.stat(name)).labels, expected, `${name} (stat)`);

      await rejectsWith(sn.update({ ...st, parent: 'doesnotexist' }, ['parent']), 'INVALID_ARGUMENT', `${name}: update parent`);
    }
  },
};

const remove: SuiteCase = {
  name: 'Remove',
  mounts: false,
  async run({ sn }) {
    await sn.prepare('committed-a', undefined, GC_ROOT);
    await sn.commit('committed-1', 'committed-a', GC_ROOT);
    await sn.prepare('reuse-1', 'committed-1', GC_ROOT);
    await sn.remove('reuse-1');
    await sn.view('reuse-1', 'committed-1', GC_ROOT);
    await sn.remove('reuse-1');
    await sn.prepare('reuse-1', undefined, GC_ROOT);
    await sn.remove('committed-1');
    await sn.commit('committed-1', 'reuse-1', GC_ROOT);
    await rejectsWith(sn.remove('reuse-1'), 'NOT_FOUND', 'remove a committed key');
  },
};

const walk: SuiteCase = {
  name: 'Walk',
  mounts: false,
  async run({ sn }) {
    const gc = { 'containerd.io/gc.root': 'check-walk' };
    await sn.prepare('a-np', undefined, { labels: gc });
    await sn.prepare('p-tmp', undefined, { labels: gc });
    await sn.commit('p', 'p-tmp', { labels: gc });
    await sn.prepare('a', 'p', { labels: gc });
    await sn.view('v', 'p', { labels: gc });
    await sn.prepare('p-wl-tmp', undefined, { labels: gc });
    await sn.commit('p-wl', 'p-wl-tmp', { labels: { l: '1', ...gc } });
    await sn.prepare('a-wl', 'p-wl', { labels: { l: '2', ...gc } });
    await sn.view('v-wl', 'p-wl', { labels: { l: '3', ...gc } });
    await sn.prepare('a-np-wl', undefined, { labels: { l: '2', ...gc } });

    const cases: [string[], string[]][] = [
      [['a-np', 'p', 'a', 'v', 'p-wl', 'a-wl', 'v-wl', 'a-np-wl'], ['labels."containerd.io/gc.root"==check-walk']],
      [['a-np', 'a', 'a-wl', 'a-np-wl'], ['kind==active,labels."containerd.io/gc.root"==check-walk']],
      [['v', 'v-wl'], ['kind==view,labels."containerd.io/gc.root"==check-walk']],
      [['p', 'p-wl'], ['kind==committed,labels."containerd.io/gc.root"==check-walk']],
      [['p', 'a-np-wl'], ['name==p', 'name==a-np-wl']],
      [['a-wl'], ['name==a-wl,labels.l']],
      [['a', 'v'], ['parent==p']],
      [['a', 'v', 'a-wl', 'v-wl'], ['parent!="",labels."containerd.io/gc.root"==check-walk']],
      [['p-wl', 'a-wl', 'v-wl', 'a-np-wl'], ['labels.l']],
      [['a-wl', 'a-np-wl'], ['labels.l==2']],
    ];
    for (const [i, [matches, filters]] of cases.entries()) {
      const actual = (await listSnapshots(sn, filters)).map((s) => s.name).sort();
      assert.deepEqual(actual, [...matches].sort(), `[${i}] ${filters.join(' | ')}`);
    }
    await rejectsWith(sn.walk(() => undefined, ['name=>x']), 'INVALID_ARGUMENT', 'a malformed filter');
  },
};

const statInWalk: SuiteCase = {
  name: 'StatInWalk',
  mounts: false,
  async run({ sn }) {
    const prefix = 'stats-in-walk-';
    await baseSnapshots(sn, prefix);
    let seen = 0;
    await sn.walk(async (si: Info) => {
      if (!si.name.startsWith(prefix)) return;
      seen++;
      assert.deepEqual(await sn.stat(si.name), si);
    });
    assert.equal(seen, 4);
  },
};

const errors: SuiteCase = {
  name: 'Errors',
  mounts: false,
  async run({ sn }) {
    await sn.prepare('e-active', undefined, GC_ROOT);
    await sn.view('e-view', undefined, GC_ROOT);
    await rejectsWith(sn.prepare('e-child', 'e-active', GC_ROOT), 'INVALID_ARGUMENT', 'a parent that is not committed');
    await rejectsWith(sn.prepare('e-child', 'e-missing', GC_ROOT), 'NOT_FOUND', 'a missing parent');
    await rejectsWith(sn.commit('e-c', 'e-view', GC_ROOT), 'FAILED_PRECONDITION', 'commit of a view');
    await rejectsWith(sn.commit('e-c', 'e-missing', GC_ROOT), 'NOT_FOUND', 'commit of a missing key');
    await rejectsWith(sn.prepare('e-active', undefined, GC_ROOT), 'ALREADY_EXISTS', 'an existing key');
    await sn.commit('e-c', 'e-active', GC_ROOT);
    await rejectsWith(sn.prepare('e-c', undefined, GC_ROOT), 'ALREADY_EXISTS', 'a key equal to a name');
    await rejectsWith(sn.commit('e-c', 'e-c', GC_ROOT), 'ALREADY_EXISTS', 'commit onto an existing name');
    await sn.prepare('e-a2', undefined, GC_ROOT);
    await rejectsWith(sn.commit('e-c', 'e-a2', GC_ROOT), 'ALREADY_EXISTS', 'commit to an existing name');
    assert.equal((await sn.stat('e-a2')).kind, Kind.Active, 'a failed commit leaves the active snapshot');
    await sn.view('e-v2', 'e-c', GC_ROOT);
    await rejectsWith(sn.remove('e-c'), 'FAILED_PRECONDITION', 'remove of a snapshot with children');
    await rejectsWith(sn.mounts('e-c'), 'FAILED_PRECONDITION', 'mounts of a committed snapshot');
    await rejectsWith(sn.stat('e-missing'), 'NOT_FOUND', 'stat of a missing snapshot');
    await rejectsWith(sn.remove('e-missing'), 'NOT_FOUND', 'remove of a missing snapshot');
    await rejectsWith(sn.usage('e-missing'), 'NOT_FOUND', 'usage of a missing snapshot');
    await rejectsWith(sn.update({ name: 'e-missing', labels: {} }), 'NOT_FOUND', 'update of a missing snapshot');
    assert.ok((await sn.mounts('e-v2')).length >= 1, 'a view has mounts');
    assert.ok((await sn.mounts('e-a2')).length >= 1, 'an active snapshot has mounts');
    const u = await sn.usage('e-a2');
    assert.ok(u.size >= 0 && u.inodes >= 0);
  },
};

/** apiCases test the metadata rules: update, remove, walk with filters, and the error classes. */
export const apiCases: readonly SuiteCase[] = [update, remove, walk, statInWalk, errors];
