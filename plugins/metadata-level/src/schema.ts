import { FailedPreconditionError } from '@ctrd/errdefs';
import type { MetaCore } from './core.js';
import { KEYS, SCHEMA } from './keys.js';
import type { WriteTxn } from './kv.js';
import type { SnapshotRecord } from './records.js';

/** SCHEMA_VERSION is the layout version this code writes (see the package documentation). */
export const SCHEMA_VERSION = 2;

/** VersionRecord is stored at the `version` key. */
export interface VersionRecord {
  schema: string;
  version: number;
}

/**
 * Migration moves the database from layout version `from` to `to`. `run` reads through the
 * transaction and queues puts and deletes on it; the queued changes and the new version are
 * committed as one batch, so a crash leaves the database at `from` or at `to`, never between.
 */
export interface Migration {
  from: number;
  to: number;
  run(tx: WriteTxn): Promise<void>;
}

/**
 * indexSnapshotChildren is the migration from version 1 to 2: every snapshot record with a parent
 * gets its entry in the parent's list of children (`snapshots/<snapshotter>/<parent>/children/<key>`),
 * which Snapshots.Remove reads instead of every record of the snapshotter.
 */
async function indexSnapshotChildren(tx: WriteTxn): Promise<void> {
  // Every namespace with keys, whether or not its own record was ever written.
  for await (const { name: ns } of tx.children(KEYS.root)) {
    for await (const { name: sn, key } of tx.children(KEYS.snapshotters(ns))) {
      for await (const r of tx.records<SnapshotRecord>(key)) {
        if (r.value.parent) tx.put(KEYS.snapshotChild(ns, sn, r.value.parent, r.name), 1);
      }
    }
  }
}

/** MIGRATIONS lists the built-in migrations, oldest first. */
export const MIGRATIONS: readonly Migration[] = [{ from: 1, to: 2, run: indexSnapshotChildren }];

/**
 * initSchema stamps a new database with `target` or brings an older one up to it, one migration
 * (and one batch) at a time. A database newer than `target`, or with no migration path, is
 * FailedPrecondition. It returns the versions it migrated through.
 */
export async function initSchema(core: MetaCore, target: number, migrations: readonly Migration[]): Promise<number[]> {
  return core.lock.run(async () => {
    const found = await core.writeLocked((tx) => tx.get<VersionRecord>(KEYS.version));
    if (found === undefined) {
      await core.writeLocked(async (tx) => tx.put(KEYS.version, { schema: SCHEMA, version: target } satisfies VersionRecord));
      return [];
    }
    if (found.version > target) {
      throw new FailedPreconditionError(`metadata database is at version ${found.version}, newer than the supported ${target}`);
    }
    const path: number[] = [];
    let current = found.version;
    while (current < target) {
      const step = migrations.find((m) => m.from === current && m.to > current && m.to <= target);
      if (!step) throw new FailedPreconditionError(`no metadata migration from version ${current} towards ${target}`);
      await core.writeLocked(async (tx) => {
        await step.run(tx);
        tx.put(KEYS.version, { schema: SCHEMA, version: step.to } satisfies VersionRecord);
      });
      current = step.to;
      path.push(current);
    }
    return path;
  });
}
