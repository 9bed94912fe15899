import { isFailedPrecondition, isNotFound, isNotImplemented } from '@ctrd/errdefs';
import type { Info, Snapshotter } from '@ctrd/snapshots';
import type { MetaCore } from './core.js';
import { KEYS } from './keys.js';
import type { SnapshotRecord } from './records.js';

interface TreeNode {
  info?: Info;
  remove: boolean;
  children: TreeNode[];
}

/** referencedNames gathers the backend names every namespace's records of snapshotter `sn` point at. */
async function referencedNames(core: MetaCore, sn: string): Promise<Set<string>> {
  return core.read(async (view) => {
    const seen = new Set<string>();
    for await (const { name: ns } of view.children(KEYS.root)) {
      for await (const r of view.records<SnapshotRecord>(KEYS.snapshots(ns, sn))) {
        if (r.value.name) seen.add(r.value.name);
      }
    }
    return seen;
  });
}

/**
 * collectBackend removes from `backend` every snapshot that no record names and that is not
 * `pending` (created but not yet recorded), children before parents, then runs the backend's
 * cleanup. A snapshot the backend refuses to remove because it still has children stays. It
 * resolves to the number of snapshots removed.
 *
 * It runs outside the metadata write lock, so the order of its reads matters. It lists the backend
 * first, then notes which names are pending, then reads the records. A snapshot being created
 * when the backend was listed is pending at the second step, or its creator has recorded it
 * before the third (a creator stops being pending only once its record is written). A snapshot
 * created after the listing is not in it.
 */
export async function collectBackend(core: MetaCore, sn: string, backend: Snapshotter, pending: ReadonlySet<string>): Promise<number> {
  const nodes = new Map<string, TreeNode>();
  const node = (name: string): TreeNode => {
    let n = nodes.get(name);
    if (!n) {
      n = { remove: false, children: [] };
      nodes.set(name, n);
    }
    return n;
  };
  const roots: TreeNode[] = [];
  await backend.walk((info) => {
    const n = node(info.name);
    n.info = info;
    if (info.parent) node(info.parent).children.push(n);
    else roots.push(n);
  });
  const keep = new Set(pending);
  for (const name of await referencedNames(core, sn)) keep.add(name);
  for (const [name, n] of nodes) n.remove = n.info !== undefined && !keep.has(name);
  let removed = 0;
  const prune = async (n: TreeNode): Promise<void> => {
    for (const c of n.children) await prune(c);
    if (!n.remove || !n.info) return;
    try {
      await backend.remove(n.info.name);
      removed++;
    } catch (err) {
      if (!isFailedPrecondition(err) && !isNotFound(err)) throw err;
    }
  };
  for (const r of roots) await prune(r);
  try {
    await backend.cleanup?.();
  } catch (err) {
    if (!isNotImplemented(err)) throw err;
  }
  return removed;
}
