import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { createNativeSnapshotter } from '@ctrd/snapshotter-native';
import { createOverlaySnapshotter, overlayUnsupportedReason } from '@ctrd/snapshotter-overlay';
import { Kind, listSnapshots, type Snapshotter } from '@ctrd/snapshots';
import { snapshotterSuite } from '@ctrd/snapshots/testsuite';
import { MemoryLevel } from 'memory-level';
import { KEYS } from './keys.js';
import { openMetadataDB, type MetadataDB } from './metadata-db.js';

snapshotterSuite('metadata-level over native', async (root) => {
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  const backend = await createNativeSnapshotter(root);
  return {
    snapshotter: db.addSnapshotter('native', backend).forNamespace('default'),
    cleanup: async () => {
      await backend.close();
      await db.close();
    },
  };
});

const probe = mkdtempSync(join(tmpdir(), 'overlay-probe-'));
const overlayReason = await overlayUnsupportedReason(probe).finally(() => rmSync(probe, { recursive: true, force: true }));

snapshotterSuite(
  'metadata-level over overlayfs',
  async (root) => {
    const db = await openMetadataDB(new MemoryLevel<string, string>());
    const backend = await createOverlaySnapshotter(root);
    return {
      snapshotter: db.addSnapshotter('overlayfs', backend).forNamespace('default'),
      cleanup: async () => {
        await backend.close();
        await db.close();
      },
    };
  },
  { skip: () => overlayReason },
);

const GC_ROOT = { 'containerd.io/gc.root': 'now' };

/** Gate holds a backend call until `open` is called; `reached` resolves once a call waits on it. */
class Gate {
  #open!: () => void;
  #reached!: () => void;
  readonly opened = new Promise<void>((r) => (this.#open = r));
  readonly reached = new Promise<void>((r) => (this.#reached = r));
  async pass(): Promise<void> {
    this.#reached();
    await this.opened;
  }
  open(): void {
    this.#open();
  }
}

/**
 * Gates names the backend calls to hold: `walk`, `remove`, or `prepare` and `commit` once they
 * have made their snapshot.
 */
interface Gates {
  walk?: Gate;
  remove?: Gate;
  prepared?: Gate;
  committed?: Gate;
}

/** gated wraps `backend` so that each call named in `gates` (looked up at call time) first waits on its gate. */
function gated(backend: Snapshotter, gates: Gates): Snapshotter {
  return new Proxy(backend, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      const call = (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
      if (prop === 'walk') return async (...args: unknown[]) => (await gates.walk?.pass(), call(...args));
      if (prop === 'remove') return async (...args: unknown[]) => (await gates.remove?.pass(), call(...args));
      if (prop === 'prepare') return async (...args: unknown[]) => {
        const mounts = await call(...args);
        await gates.prepared?.pass();
        return mounts;
      };
      if (prop === 'commit') return async (...args: unknown[]) => {
        await call(...args);
        await gates.committed?.pass();
      };
      return call;
    },
  });
}

/**
 * withDB opens a metadata database over a native backend in a new directory, registered as
 * `native` behind the gates given (which the test may set later).
 */
async function withDB(fn: (db: MetadataDB, backend: Snapshotter) => Promise<void>, gates: Gates = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-ns-snapshots-'));
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  const backend = await createNativeSnapshotter(dir);
  db.addSnapshotter('native', gated(backend, gates));
  try {
    await fn(db, backend);
  } finally {
    await backend.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const names = async (sn: Snapshotter) => (await listSnapshots(sn)).map((i) => i.name).sort();

describe('namespaced snapshotter', () => {
  test('keys are per namespace; the backend sees <ns>/<n>/<key> names', () =>
    withDB(async (db, backend) => {
      const a = db.snapshotter('native').forNamespace('a');
      const b = db.snapshotter('native').forNamespace('b');
      await a.prepare('k', undefined, { labels: GC_ROOT });
      await b.prepare('k', undefined, { labels: GC_ROOT });
      await a.commit('c', 'k', { labels: GC_ROOT });
      assert.deepEqual(await names(a), ['c']);
      assert.deepEqual(await names(b), ['k']);
      assert.equal((await b.stat('k')).kind, Kind.Active);
      await assert.rejects(b.stat('c'), (e) => codeOf(e) === 'NOT_FOUND' && /snapshot c does not exist/.test((e as Error).message));
      const inBackend = (await listSnapshots(backend)).map((i) => i.name).sort();
      assert.equal(inBackend.length, 2);
      assert.match(inBackend[0]!, /^a\/\d+\/c$/);
      assert.match(inBackend[1]!, /^b\/\d+\/k$/);
    }));

  test('only containerd.io/snapshot/ and snapshot.ref labels reach the backend', () =>
    withDB(async (db, backend) => {
      const sn = db.snapshotter('native').forNamespace('default');
      const labels = { ...GC_ROOT, 'containerd.io/snapshot/x': '1', 'containerd.io/snapshot.ref': 'r', other: 'o' };
      await sn.prepare('k', undefined, { labels });
      const [inner] = await listSnapshots(backend);
      assert.deepEqual(inner!.labels, { 'containerd.io/snapshot/x': '1', 'containerd.io/snapshot.ref': 'r' });
      assert.deepEqual((await sn.stat('k')).labels, labels);
      const up = await sn.update({ name: 'k', labels: { 'containerd.io/snapshot/y': '2', other: '' } }, ['labels.containerd.io/snapshot/y', 'labels.other']);
      assert.equal(up.labels.other, undefined);
      assert.equal(up.labels['containerd.io/snapshot/y'], '2');
      assert.equal((await backend.stat(inner!.name)).labels['containerd.io/snapshot/y'], '2');
    }));

  test('an invalid label, empty name, unknown or missing snapshotter are InvalidArgument', () =>
    withDB(async (db) => {
      const sn = db.snapshotter('native').forNamespace('default');
      await assert.rejects(sn.prepare('k', undefined, { labels: { ['x'.repeat(5000)]: 'v' } }), (e) => codeOf(e) === 'INVALID_ARGUMENT');
      await assert.rejects(sn.prepare('', undefined), (e) => codeOf(e) === 'INVALID_ARGUMENT');
      assert.throws(() => db.snapshotter(''), /snapshotter argument missing/);
      assert.throws(() => db.snapshotter('zfs'), /snapshotter not loaded: zfs/);
      assert.deepEqual(db.snapshotterNames, ['native']);
    }));

  test('remove keeps the backend snapshot until a collection; unreachable snapshots are collected', () =>
    withDB(async (db, backend) => {
      const sn = db.snapshotter('native').forNamespace('default');
      await sn.prepare('root-a', undefined, { labels: GC_ROOT });
      await sn.commit('root', 'root-a', { labels: GC_ROOT });
      await sn.prepare('child', 'root');
      await sn.prepare('gone', undefined, { labels: GC_ROOT });
      await assert.rejects(sn.remove('root'), /cannot remove snapshot with child/);
      await sn.remove('gone');
      assert.equal((await listSnapshots(backend)).length, 3);
      const stats = await db.gc.collect();
      // `child` has no root: its record goes, then the backend loses both it and `gone`.
      assert.equal(stats.removed.snapshots, 1);
      assert.equal(stats.backend.snapshots.native, 2);
      assert.deepEqual(await names(sn), ['root']);
      assert.equal((await listSnapshots(backend)).length, 1);
      await sn.remove('root');
      await db.gc.collect();
      assert.equal((await listSnapshots(backend)).length, 0);
    }));

  test("a snapshot's list of children follows prepares, commits and removals", () =>
    withDB(async (db) => {
      const sn = db.snapshotter('native').forNamespace('default');
      await sn.prepare('base-a', undefined, { labels: GC_ROOT });
      await sn.commit('base', 'base-a', { labels: GC_ROOT });
      await sn.prepare('work', 'base', { labels: GC_ROOT });
      await assert.rejects(sn.remove('base'), (e) => codeOf(e) === 'FAILED_PRECONDITION');
      await sn.commit('layer', 'work', { labels: GC_ROOT });
      await assert.rejects(sn.remove('base'), (e) => codeOf(e) === 'FAILED_PRECONDITION');
      await sn.view('look', 'layer', { labels: GC_ROOT });
      await assert.rejects(sn.remove('layer'), (e) => codeOf(e) === 'FAILED_PRECONDITION');
      await sn.remove('look');
      await sn.remove('layer');
      await sn.remove('base');
      assert.deepEqual(await names(sn), []);
    }));

  // The sweep reads every namespace that has keys; the backend cleanup must read the same ones.
  test('a collection keeps the backend snapshot of a record in a namespace without its own record', () =>
    withDB(async (db, backend) => {
      const sn = db.snapshotter('native').forNamespace('default');
      await sn.prepare('k', undefined, { labels: GC_ROOT });
      await db.core.db.del(KEYS.namespace('default'));
      await db.gc.collect();
      assert.deepEqual(await names(sn), ['k']);
      assert.equal((await listSnapshots(backend)).length, 1);
    }));

  test('a lease holds what is prepared and committed under it', () =>
    withDB(async (db) => {
      await db.leases.create('default', { id: 'l1' });
      const leased = db.snapshotter('native').forNamespace('default', { lease: 'l1' });
      await leased.prepare('a', undefined);
      await leased.commit('c', 'a');
      await leased.view('v', 'c');
      await db.gc.collect();
      assert.deepEqual(await names(leased), ['c', 'v']);
      const held = (await db.leases.listResources('default', 'l1')).map((r) => `${r.type}:${r.id}`).sort();
      assert.deepEqual(held, ['snapshots/native:c', 'snapshots/native:v']);
      await db.leases.delete('default', 'l1');
      await db.gc.collect();
      assert.deepEqual(await names(leased), []);
      const missing = db.snapshotter('native').forNamespace('default', { lease: 'nope' });
      await assert.rejects(missing.prepare('x', undefined), /lease does not exist/);
      await assert.rejects(leased.stat('x'), (e) => codeOf(e) === 'NOT_FOUND');
    }));

  test('a target that already exists is AlreadyExists; a failed record write frees the backend snapshot', () =>
    withDB(async (db, backend) => {
      const sn = db.snapshotter('native').forNamespace('default');
      await sn.prepare('t-a', undefined, { labels: GC_ROOT });
      await sn.commit('t', 't-a', { labels: GC_ROOT });
      await assert.rejects(sn.prepare('x', undefined, { labels: { 'containerd.io/snapshot.ref': 't' } }), (e) => codeOf(e) === 'ALREADY_EXISTS');
      await assert.rejects(db.snapshotter('native').forNamespace('default', { lease: 'missing' }).prepare('y', undefined), /lease/);
      assert.equal((await listSnapshots(backend)).length, 1);
    }));

  test('a collection reclaims backend snapshots that never got a record', () =>
    withDB(async (db, backend) => {
      await backend.prepare('stray', undefined);
      const stats = await db.gc.collect();
      assert.equal(stats.backend.snapshots.native, 1);
      assert.equal((await listSnapshots(backend)).length, 0);
    }));
  // While a collection's backend cleanup is held at the backend's walk or at a removal, a writer
  // records a new snapshot. Holding the write lock through the cleanup would leave the writer
  // waiting for good (the timeout fails it); reading the records before walking the backend would
  // take the new snapshot for an orphan.
  for (const at of ['remove', 'walk'] as const) {
    test(`a snapshot recorded while a collection's cleanup waits at its ${at} is kept`, { timeout: 10_000 }, async () => {
      const gate = new Gate();
      await withDB(
        async (db, backend) => {
          const sn = db.snapshotter('native').forNamespace('default');
          await sn.prepare('gone', undefined);
          const collecting = db.gc.collect();
          await gate.reached;
          await sn.prepare('meanwhile', undefined, { labels: GC_ROOT });
          await db.leases.create('default', { id: 'l' });
          gate.open();
          const stats = await collecting;
          assert.equal(stats.backend.snapshots.native, 1);
          assert.deepEqual(await names(sn), ['meanwhile']);
          assert.equal((await listSnapshots(backend)).length, 1);
        },
        { [at]: gate },
      );
    });
  }

  // The collector notes the pending names after it has listed the backend: a snapshot whose
  // creation began after that point but is in the backend by the listing is pending then.
  test('a snapshot in the backend whose record is not written yet is kept by a collection', async () => {
    const gates: Gates = { walk: new Gate() };
    await withDB(async (db, backend) => {
      const sn = db.snapshotter('native').forNamespace('default');
      await sn.prepare('gone', undefined);
      const collecting = db.gc.collect();
      await gates.walk!.reached;
      gates.prepared = new Gate();
      const preparing = sn.prepare('slow', undefined, { labels: GC_ROOT });
      await gates.prepared.reached;
      gates.walk!.open();
      const stats = await collecting;
      assert.equal(stats.backend.snapshots.native, 1);
      gates.prepared.open();
      await preparing;
      assert.equal((await sn.stat('slow')).kind, Kind.Active);
      assert.equal((await listSnapshots(backend)).length, 1);
    }, gates);
  });

  // A removal's batch commits while the collection is still busy with another snapshotter; the
  // collection then reads the record still there. The snapshotter must stay marked for the next one.
  test('a snapshot removed while a collection runs goes at the next collection', async () => {
    const dirs = [await mkdtemp(join(tmpdir(), 'ctrd-ns-snapshots-')), await mkdtemp(join(tmpdir(), 'ctrd-ns-snapshots-'))];
    const level = new MemoryLevel<string, string>();
    const db = await openMetadataDB(level);
    const other = await createNativeSnapshotter(dirs[0]!);
    const backend = await createNativeSnapshotter(dirs[1]!);
    const gates: Gates = {};
    try {
      db.addSnapshotter('a', gated(other, gates));
      db.addSnapshotter('native', backend);
      const sn = db.snapshotter('native').forNamespace('default');
      await sn.prepare('y', undefined, { labels: GC_ROOT });
      await sn.prepare('x', undefined, { labels: GC_ROOT });
      await db.gc.collect();
      // Both snapshotters dirty again, `a` first: the collection cleans it first.
      const a = db.snapshotter('a').forNamespace('default');
      await a.prepare('t', undefined);
      await a.remove('t');
      await sn.remove('x');
      gates.walk = new Gate();
      const collecting = db.gc.collect();
      await gates.walk.reached;
      // Hold the removal's batch until the collection has looked at `native`.
      const batch = level.batch.bind(level);
      const held = new Gate();
      (level as { batch: unknown }).batch = async (...args: Parameters<typeof batch>) => {
        (level as { batch: unknown }).batch = batch;
        await held.pass();
        return batch(...args);
      };
      const removing = sn.remove('y');
      await held.reached;
      gates.walk.open();
      await collecting;
      held.open();
      await removing;
      const later = await db.gc.collect();
      assert.equal(later.backend.snapshots.native, 1);
      assert.deepEqual(await listSnapshots(backend), []);
    } finally {
      await other.close();
      await backend.close();
      await db.close();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }
  });

  test('a commit whose record cannot be written leaves its backend snapshot to the next collection', async () => {
    const gates: Gates = {};
    await withDB(async (db, backend) => {
      const sn = db.snapshotter('native').forNamespace('default');
      await sn.prepare('work', undefined, { labels: GC_ROOT });
      await db.gc.collect();
      const committed = new Gate();
      gates.committed = committed;
      const committing = sn.commit('done', 'work', { labels: GC_ROOT });
      await committed.reached;
      // The name is taken while the backend commits: the commit's record cannot be written.
      await sn.prepare('done', undefined, { labels: GC_ROOT });
      committed.open();
      await assert.rejects(committing, (e) => codeOf(e) === 'ALREADY_EXISTS');
      assert.equal((await listSnapshots(backend)).length, 2);
      const stats = await db.gc.collect();
      assert.equal(stats.backend.snapshots.native, 1);
      assert.deepEqual((await listSnapshots(backend)).map((i) => i.kind), [Kind.Active]);
    }, gates);
  });

  test('closing the database waits for a collection still cleaning a backend', async () => {
    const gates: Gates = {};
    await withDB(async (db, backend) => {
      const sn = db.snapshotter('native').forNamespace('default');
      await sn.prepare('gone', undefined);
      gates.remove = new Gate();
      const collecting = db.gc.collect();
      await gates.remove.reached;
      let closed = false;
      const closing = db.close().then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(closed, false);
      gates.remove.open();
      assert.equal((await collecting).backend.snapshots.native, 1);
      await closing;
      assert.deepEqual(await listSnapshots(backend), []);
    }, gates);
  });
});
