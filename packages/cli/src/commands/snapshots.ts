import { isNotFound } from '@ctrd/errdefs';
import type { Info } from '@ctrd/snapshots';
import type { GlobalArgs } from '../global.js';
import { humanSize, print, printJSON, table } from '../output.js';
import { renderSnapshotTree } from '../snapshot-tree.js';
import { eachItem, warn, withConnection } from './common.js';
import { SnapshotClient } from './snapshot-client.js';

/** SnapshotArgs are the arguments of the `snapshots` subcommands. */
export interface SnapshotArgs extends GlobalArgs {
  snapshotter: string;
  key?: string;
  keys?: string[];
  filters?: string[];
  bytes?: boolean;
}

const KIND_TITLES: Record<number, string> = { 1: 'View', 2: 'Active', 3: 'Committed' };
const kindTitle = (i: Info): string => KIND_TITLES[i.kind] ?? 'Unknown';

/** goInfo shapes snapshot info as Go's snapshots.Info marshals, as `ctr snapshots info` prints it. */
function goInfo(i: Info): Record<string, unknown> {
  return {
    Kind: kindTitle(i),
    Name: i.name,
    ...(i.parent ? { Parent: i.parent } : {}),
    ...(Object.keys(i.labels).length ? { Labels: i.labels } : {}),
    Created: i.createdAt.toISOString(),
    Updated: i.updatedAt.toISOString(),
  };
}

/** snapshotsLs lists the snapshots of `--snapshotter` (KEY PARENT KIND). */
export async function snapshotsLs(argv: SnapshotArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const list = await new SnapshotClient(conn, argv.snapshotter).list(argv.filters ?? []);
    if (argv.format === 'json') return printJSON(list.map(goInfo));
    print(table([['KEY', 'PARENT', 'KIND'], ...list.map((i) => [i.name, i.parent ?? '', kindTitle(i)])]));
  });
}

/** snapshotsInfo prints one snapshot's info as JSON. */
export async function snapshotsInfo(argv: SnapshotArgs): Promise<void> {
  await withConnection(argv, async (conn) => printJSON(goInfo(await new SnapshotClient(conn, argv.snapshotter).stat(argv.key!))));
}

/** snapshotsTree draws the snapshots as a tree of parents and children. */
export async function snapshotsTree(argv: SnapshotArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const list = await new SnapshotClient(conn, argv.snapshotter).list();
    if (argv.format === 'json') return printJSON(list.map((i) => ({ name: i.name, parent: i.parent ?? null })));
    print(renderSnapshotTree(list));
  });
}

/** snapshotsUsage shows the disk usage of the named snapshots, or of all (KEY SIZE INODES). */
export async function snapshotsUsage(argv: SnapshotArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const client = new SnapshotClient(conn, argv.snapshotter);
    const keys = argv.keys?.length ? argv.keys : (await client.list()).map((i) => i.name);
    const rows = [];
    for (const key of keys) rows.push({ key, ...(await client.usage(key)) });
    if (argv.format === 'json') return printJSON(rows);
    print(table([['KEY', 'SIZE', 'INODES'], ...rows.map((r) => [r.key, argv.bytes ? String(r.size) : humanSize(r.size), String(r.inodes)])]));
  });
}

/** snapshotsRm removes snapshots, printing nothing; a missing one only warns. */
export async function snapshotsRm(argv: SnapshotArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const client = new SnapshotClient(conn, argv.snapshotter);
    await eachItem(
      argv.keys ?? [],
      async (key) => {
        try {
          await client.remove(key);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          warn(`snapshot ${key} not found`);
        }
      },
      (key) => `failed to remove ${JSON.stringify(key)}`,
    );
  });
}
