import { RemoteContentStore, RemoteImageStore, type Connection } from '@ctrd/client';
import { isAlreadyExists, isNotFound, isNotImplemented } from '@ctrd/errdefs';
import { check, imageChainIds, imagePlatforms, isUnpacked, packedSize, unpackedSize } from '@ctrd/images';
import type { Image } from '@ctrd/metadata';
import { formatPlatform, type PlatformMatcher } from '@ctrd/remotes';
import type { GlobalArgs } from '../global.js';
import { formatLabels, parseLabelArgs } from '../format.js';
import { humanSize, print, printJSON, table } from '../output.js';
import { eachItem, warn, withConnection } from './common.js';
import { matcherOf, printImageNames, printImageRows, type ImageRow } from './images-ls-output.js';
import { SnapshotClient } from './snapshot-client.js';

/** ImageArgs are the arguments of the `images` subcommands. */
export interface ImageArgs extends GlobalArgs {
  name?: string;
  names?: string[];
  source?: string;
  targets?: string[];
  filters?: string[];
  labels?: string[];
  quiet?: boolean;
  force?: boolean;
  replaceAll?: boolean;
  sync?: boolean;
  snapshotter?: string;
  platform?: string;
}

/**
 * Unpacked sizes need the Snapshots service; against a daemon without it they are unknown
 * (undefined) instead of failing the listing.
 */
async function unpackedOf(snapshots: SnapshotClient, store: RemoteContentStore, img: Image, matcher: PlatformMatcher, state: { absent: boolean }): Promise<number | undefined> {
  if (state.absent) return undefined;
  try {
    return (await unpackedSize(snapshots, await imageChainIds(store, img.target, matcher))).size;
  } catch (err) {
    if (isNotImplemented(err)) state.absent = true;
    return undefined;
  }
}

/**
 * imagesLs lists images like ctr (REF TYPE DIGEST SIZE PLATFORMS LABELS) with the unpacked
 * size in the chosen snapshotter after SIZE.
 */
export async function imagesLs(argv: ImageArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const images = await new RemoteImageStore(conn).list(conn.namespace, argv.filters ?? []);
    if (argv.quiet) return printImageNames(images);
    const store = new RemoteContentStore(conn);
    const snapshots = new SnapshotClient(conn, argv.snapshotter ?? 'overlayfs');
    const matcher = matcherOf(argv.platform);
    const state = { absent: false };
    const rows: ImageRow[] = [];
    for (const img of images) {
      const size = await packedSize(store, img.target, matcher).catch((err: Error) => {
        warn(`failed calculating size for image ${img.name}: ${err.message}`);
        return undefined;
      });
      const platforms = await imagePlatforms(store, img.target).catch((err: Error) => {
        warn(`failed resolving platform for image ${img.name}: ${err.message}`);
        return [];
      });
      const unpacked = await unpackedOf(snapshots, store, img, matcher, state);
      rows.push({ img, size, unpacked, platforms: [...new Set(platforms.map(formatPlatform))].sort() });
    }
    printImageRows(rows, argv.format);
  });
}

/** imagesTag gives the image `source` each further name, replacing existing ones with `--force`. */
export async function imagesTag(argv: ImageArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const store = new RemoteImageStore(conn);
    const src = await store.get(conn.namespace, argv.source!);
    for (const name of argv.targets ?? []) {
      const img = { name, labels: src.labels, target: src.target };
      try {
        await store.create(conn.namespace, img);
      } catch (err) {
        if (!(isAlreadyExists(err) && argv.force)) throw err;
        await store.delete(conn.namespace, name);
        await store.create(conn.namespace, img);
      }
      print(name);
    }
  });
}

/** imagesLabel sets (`k=v`) or clears (`k=`) image labels, or replaces them all with `--replace-all`. */
export async function imagesLabel(argv: ImageArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const store = new RemoteImageStore(conn);
    const labels = parseLabelArgs(argv.labels ?? []);
    const set = Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== ''));
    const keys = Object.keys(labels);
    const paths = argv.replaceAll ? ['labels'] : keys.map((k) => `labels.${k}`);
    let img = await store.get(conn.namespace, argv.name!);
    if (paths.length > 0) img = await store.update(conn.namespace, { ...img, labels: set }, paths);
    if (argv.format === 'json') return printJSON(img.labels);
    print(formatLabels(img.labels, ''));
  });
}

/** imagesRm deletes images, printing each name; a missing image only warns. */
export async function imagesRm(argv: ImageArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const store = new RemoteImageStore(conn);
    const names = argv.names ?? [];
    await eachItem(
      names,
      async (name) => {
        try {
          await store.delete(conn.namespace, name, { sync: (argv.sync ?? false) && name === names.at(-1) });
        } catch (err) {
          if (!isNotFound(err)) throw err;
          return warn(`${name}: image not found`);
        }
        print(name);
      },
      (name) => `unable to delete ${name}`,
    );
  });
}

async function unpackedFlag(conn: Connection, snapshots: SnapshotClient, img: Image, matcher: PlatformMatcher): Promise<boolean | undefined> {
  try {
    return await isUnpacked(new RemoteContentStore(conn), snapshots, img.target, matcher);
  } catch (err) {
    if (isNotImplemented(err)) return undefined;
    throw err;
  }
}

/**
 * imagesCheck reports, per image, whether the content one platform needs is present
 * (REF TYPE DIGEST STATUS SIZE UNPACKED) as ctr does.
 */
export async function imagesCheck(argv: ImageArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const images = await new RemoteImageStore(conn).list(conn.namespace, argv.filters ?? []);
    const store = new RemoteContentStore(conn);
    const snapshots = new SnapshotClient(conn, argv.snapshotter ?? 'overlayfs');
    const matcher = matcherOf(argv.platform);
    let firstError: Error | undefined;
    const results = [];
    for (const img of images) {
      let status: string;
      let size = '-';
      let complete = false;
      try {
        const r = await check(store, img.target, matcher);
        const sum = (ds: { size: number }[]) => ds.reduce((n, d) => n + d.size, 0);
        complete = r.available && r.missing.length === 0;
        if (r.available) {
          status = `${r.missing.length ? 'incomplete' : 'complete'} (${r.present.length}/${r.required.length})`;
          size = `${humanSize(sum(r.present))}/${humanSize(sum(r.required))}`;
        } else {
          status = `unavailable (${r.present.length}/?)`;
          size = `${humanSize(sum(r.present))}/?`;
        }
      } catch (err) {
        status = 'error';
        firstError ??= new Error(`unable to check ${img.name}: ${(err as Error).message}`, { cause: err });
      }
      const unpacked = await unpackedFlag(conn, snapshots, img, matcher).catch(() => false);
      results.push({ img, status, size, complete, unpacked });
    }
    if (argv.format === 'json') {
      printJSON(results.map((r) => ({ name: r.img.name, target: r.img.target, status: r.status, size: r.size, complete: r.complete, unpacked: r.unpacked ?? null })));
    } else if (argv.quiet) {
      print(results.filter((r) => r.complete).map((r) => r.img.name).join('\n'));
    } else {
      const rows = results.map((r) => [r.img.name, r.img.target.mediaType, r.img.target.digest, r.status, r.size, r.unpacked === undefined ? '-' : String(r.unpacked)]);
      print(table([['REF', 'TYPE', 'DIGEST', 'STATUS', 'SIZE', 'UNPACKED'], ...rows]));
    }
    if (firstError) throw firstError;
  });
}
