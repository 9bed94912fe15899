import { isNotFound } from '@ctrd/errdefs';
import { Kind, kindName, type Snapshotter } from '@ctrd/snapshots';
import type { MetaCore } from './core.js';
import { KEYS } from './keys.js';
import { holdInLease, releaseFromLease } from './lease-manager.js';
import type { SnapshotRecord } from './records.js';

async function exists(backend: Snapshotter, name: string): Promise<boolean> {
  try {
    await backend.stat(name);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * recoverCommits completes the commits of snapshotter `sn` that a crash interrupted. A commit
 * marks the Active record `committing` before the backend commits and replaces it with the
 * Committed record after; a record still marked on restart is finished when the backend holds the
 * committed snapshot and no longer the Active one, and otherwise only unmarked (the commit never
 * happened). Resolves to the number of commits finished.
 */
export async function recoverCommits(core: MetaCore, sn: string, backend: Snapshotter): Promise<number> {
  const marked = await core.read(async (view) => {
    const out: Array<{ ns: string; key: string }> = [];
    for await (const { name: ns } of view.children(KEYS.root)) {
      for await (const r of view.records<SnapshotRecord>(KEYS.snapshots(ns, sn))) {
        if (r.value.committing) out.push({ ns, key: r.name });
      }
    }
    return out;
  });
  let finished = 0;
  for (const { ns, key } of marked) {
    const rec = await core.read((v) => v.get<SnapshotRecord>(KEYS.snapshot(ns, sn, key)));
    const c = rec?.committing;
    if (!rec || !c) continue;
    const done = !(await exists(backend, rec.name)) && (await exists(backend, c.backend));
    await core.write(async (tx) => {
      const cur = await tx.get<SnapshotRecord>(KEYS.snapshot(ns, sn, key));
      if (!cur?.committing) return;
      const { committing: _, ...active } = cur;
      if (!done || (await tx.get(KEYS.snapshot(ns, sn, c.name))) !== undefined) {
        tx.put(KEYS.snapshot(ns, sn, key), active);
        return;
      }
      const now = core.stamp();
      const out: SnapshotRecord = { name: c.backend, kind: kindName(Kind.Committed), labels: c.labels, createdAt: now, updatedAt: now };
      if (cur.parent) {
        out.parent = cur.parent;
        tx.del(KEYS.snapshotChild(ns, sn, cur.parent, key));
        tx.put(KEYS.snapshotChild(ns, sn, cur.parent, c.name), 1);
      }
      if (c.lease && (await tx.get(KEYS.lease(ns, c.lease))) !== undefined) {
        await holdInLease(tx, ns, c.lease, { kind: 'snapshots', snapshotter: sn, id: c.name });
      }
      tx.put(KEYS.snapshot(ns, sn, c.name), out);
      tx.del(KEYS.snapshot(ns, sn, key));
      releaseFromLease(tx, ns, c.lease, { kind: 'snapshots', snapshotter: sn, id: key });
      finished++;
    });
  }
  return finished;
}
