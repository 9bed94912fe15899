import { createReadStream, createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { RemoteContentStore, RemoteDiff, RemoteImageStore, RemoteLeaseManager, RemoteSnapshotter } from '@ctrd/client';
import { InvalidArgumentError } from '@ctrd/errdefs';
import { ctrImportOptions, exportArchive, importImages, saveImages, unpackImage, type ExportImage } from '@ctrd/images';
import { defaultMatcher, hostPlatform, orderedMatcher, parsePlatform, strictMatcher } from '@ctrd/remotes';
import type { GlobalArgs } from '../global.js';
import { parseLabelArgs } from '../format.js';
import { print, printJSON } from '../output.js';
import { warn, withConnection } from './common.js';

/** ImportArgs are the arguments of `images import`. */
export interface ImportArgs extends GlobalArgs {
  archive: string;
  baseName?: string;
  digests?: boolean;
  skipDigestForNamed?: boolean;
  indexName?: string;
  allPlatforms?: boolean;
  platform?: string;
  unpack?: boolean;
  compressBlobs?: boolean;
  snapshotter?: string;
  label?: string[];
}

/** ExportArgs are the arguments of `images export`. */
export interface ExportArgs extends GlobalArgs {
  out: string;
  images: string[];
  platform?: string[];
  allPlatforms?: boolean;
  skipManifestJson?: boolean;
  skipNonDistributable?: boolean;
}

const GC_EXPIRE_LABEL = 'containerd.io/gc.expire';

/**
 * imagesImport streams an archive (a path, or `-` for stdin) into the daemon's content store
 * under a temporary lease, then creates or updates the images it names and, unless
 * `--no-unpack`, unpacks each for `--platform` (the host's by default) into `--snapshotter`
 * (overlayfs by default) like ctr: client-side, through the Snapshots and Diff services.
 */
export async function imagesImport(argv: ImportArgs): Promise<void> {
  const opts = ctrImportOptions({
    baseName: argv.baseName,
    digests: argv.digests,
    skipDigestForNamed: argv.skipDigestForNamed,
    indexName: argv.indexName,
    platform: argv.platform,
    allPlatforms: argv.allPlatforms,
    compressBlobs: argv.compressBlobs,
  });
  const labels = parseLabelArgs(argv.label ?? []);
  await withConnection(argv, async (conn) => {
    const leases = new RemoteLeaseManager(conn);
    const expire = new Date(Date.now() + 24 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const lease = await leases.create(conn.namespace, { id: `ctrctl-import-${process.pid}-${Date.now()}`, labels: { [GC_EXPIRE_LABEL]: expire } });
    try {
      const store = new RemoteContentStore(conn, { lease: lease.id });
      const source = argv.archive === '-' ? process.stdin : createReadStream(argv.archive);
      const { images } = await importImages(store, source, opts);
      const withLabels = images.map((i) => (Object.keys(labels).length ? { ...i, labels: { ...i.labels, ...labels } } : i));
      const saved = await saveImages(new RemoteImageStore(conn), conn.namespace, withLabels);
      if (argv.format === 'json') printJSON(saved);
      else print(saved.map((i) => `${i.name} ${i.target.digest}`).join('\n'));
      if (argv.unpack !== false) {
        const snapshotterName = argv.snapshotter || 'overlayfs';
        const call = { lease: lease.id };
        const matcher = argv.platform ? strictMatcher(parsePlatform(argv.platform)) : defaultMatcher();
        for (const img of saved) {
          await unpackImage({
            provider: store,
            content: store,
            snapshotter: new RemoteSnapshotter(conn, snapshotterName, call),
            snapshotterName,
            applier: new RemoteDiff(conn, call),
            target: img.target,
            matcher,
          });
        }
      }
    } finally {
      await leases.delete(conn.namespace, lease.id).catch((err: Error) => warn(`releasing lease ${lease.id}: ${err.message}`));
    }
  });
}

/**
 * imagesExport writes images to an OCI archive (a path, or `-` for stdout) with a Docker
 * `manifest.json`: the host platform by default, `--platform` ones, or all.
 */
export async function imagesExport(argv: ExportArgs): Promise<void> {
  if (argv.images.length === 0) throw new InvalidArgumentError('name at least one image to export');
  await withConnection(argv, async (conn) => {
    const store = new RemoteImageStore(conn);
    const images: ExportImage[] = [];
    for (const name of argv.images) images.push({ name, target: (await store.get(conn.namespace, name)).target });
    const wanted = (argv.platform ?? []).map(parsePlatform);
    const platform = wanted.length > 0 ? orderedMatcher(...wanted) : strictMatcher(hostPlatform());
    const out: Writable = argv.out === '-' ? process.stdout : createWriteStream(argv.out);
    await exportArchive(new RemoteContentStore(conn), out, images, {
      platform,
      allPlatforms: argv.allPlatforms ?? false,
      skipManifestJson: argv.skipManifestJson ?? false,
      skipNonDistributable: argv.skipNonDistributable ?? false,
    });
    if (out !== process.stdout) await finished(out);
  });
}
