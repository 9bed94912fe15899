import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Kind, kindName } from '@ctrd/snapshots';
import { MetaStore } from '@ctrd/snapshots/storage';
import { Findings } from './types.js';

/** BackendSnapshot is one record of a snapshotter's own metastore. */
export interface BackendSnapshot {
  id: string;
  kind: Kind;
  parent?: string;
}

// Where each backend keeps a snapshot's tree, by kind; btrfs splits subvolumes by kind.
function layout(name: string): { dirs: string[]; dirOf(kind: Kind, id: string): string; needsDir(kind: Kind, parent?: string): boolean } {
  if (name === 'btrfs') {
    const by: Record<number, string> = { [Kind.Active]: 'active', [Kind.View]: 'view', [Kind.Committed]: 'snapshots' };
    return { dirs: Object.values(by), dirOf: (k, id) => join(by[k]!, id), needsDir: () => true };
  }
  if (name === 'native') {
    // A native View of a parent mounts the parent itself and has no directory.
    return { dirs: ['snapshots'], dirOf: (_k, id) => join('snapshots', id), needsDir: (k, parent) => k !== Kind.View || !parent };
  }
  return { dirs: ['snapshots'], dirOf: (_k, id) => join('snapshots', id, name === 'overlayfs' ? 'fs' : ''), needsDir: () => true };
}

/**
 * checkSnapshotter checks one snapshotter root against its metastore: every parent exists and is
 * Committed, every snapshot that has a tree has it on disk (an error: a half-made or
 * half-removed snapshot), and no two records share a backend ID. Directories no record owns are
 * leftovers of interrupted creates and removes, which the snapshotter's cleanup deletes
 * (warnings; removed by repair), as is a stale temporary metastore file.
 */
export async function checkSnapshotter(
  name: string,
  root: string,
  opts: { repair?: boolean },
  checked: Record<string, number>,
): Promise<{ findings: Findings; snapshots: Map<string, BackendSnapshot> }> {
  const f = new Findings('snapshots');
  const snapshots = new Map<string, BackendSnapshot>();
  const metaPath = join(root, 'metadata.json');
  if (!existsSync(metaPath)) return { findings: f, snapshots };
  const ms = await MetaStore.open(metaPath);
  try {
    await ms.view((tx) =>
      tx.walkInfo((info) => {
        const s: BackendSnapshot = { id: tx.getInfo(info.name).id, kind: info.kind };
        if (info.parent) s.parent = info.parent;
        snapshots.set(info.name, s);
      }),
    );
  } finally {
    await ms.close();
  }
  const l = layout(name);
  const ids = new Map<string, string>();
  for (const [key, s] of snapshots) {
    checked.snapshots = (checked.snapshots ?? 0) + 1;
    const subject = `${name}/${key}`;
    const other = ids.get(s.id);
    if (other !== undefined) f.add('error', 'snapshot-duplicate-id', subject, `shares backend ID ${s.id} with ${JSON.stringify(other)}`);
    ids.set(s.id, key);
    if (s.parent !== undefined) {
      const p = snapshots.get(s.parent);
      if (!p) f.add('error', 'snapshot-parent-missing', subject, `parent ${JSON.stringify(s.parent)} does not exist`);
      else if (p.kind !== Kind.Committed) f.add('error', 'snapshot-parent-not-committed', subject, `parent ${JSON.stringify(s.parent)} is ${kindName(p.kind)}`);
    }
    if (l.needsDir(s.kind, s.parent) && !existsSync(join(root, l.dirOf(s.kind, s.id)))) {
      f.add('error', 'snapshot-dir-missing', subject, `${kindName(s.kind)} snapshot has no tree at ${join(root, l.dirOf(s.kind, s.id))}`);
    }
  }
  if (existsSync(`${metaPath}.tmp`)) {
    if (opts.repair) await rm(`${metaPath}.tmp`, { force: true });
    f.add('warning', 'metastore-tmp', `${metaPath}.tmp`, 'temporary metastore file of an interrupted write', opts.repair);
  }
  for (const d of l.dirs) {
    const dir = join(root, d);
    if (!existsSync(dir)) continue;
    for (const entry of await readdir(dir)) {
      if (ids.has(entry)) continue;
      const p = join(dir, entry);
      if (opts.repair) await rm(p, { recursive: true, force: true });
      f.add('warning', 'snapshot-dir-orphan', p, 'directory no snapshot record owns (an interrupted create or remove)', opts.repair);
    }
  }
  return { findings: f, snapshots };
}
