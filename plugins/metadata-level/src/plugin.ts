import { join } from 'node:path';
import { ContentStore } from '@ctrd/content';
import { InvalidArgumentError } from '@ctrd/errdefs';
import { MetadataStore } from '@ctrd/metadata';
import { definePlugin, PluginType, type MetricFamily } from '@ctrd/plugin';
import { Snapshotter } from '@ctrd/snapshots';
import { openMetadataDB, type MetadataDB } from './metadata-db.js';
import { collectMetadataMetrics } from './metrics.js';

/** LevelMetadataConfig is the `[plugins."io.containerd.metadata.v1.level"]` section. */
export interface LevelMetadataConfig {
  /** `shared` (blobs are stored once for every namespace) or `isolated`. */
  content_sharing_policy: string;
}

/**
 * LevelMetadataStore is what the metadata plugin provides: the {@link MetadataStore} contract,
 * plus the open database for layers kept in it (the snapshot metadata wrapper).
 */
export interface LevelMetadataStore extends MetadataStore {
  readonly db: MetadataDB;
  /** the database directory. */
  readonly path: string;
  close(): Promise<void>;
  /** collectMetrics reports record counts per namespace on each metrics scrape. */
  collectMetrics(): Promise<MetricFamily[]>;
}

/**
 * levelMetadataPlugin is `io.containerd.metadata.v1.level`: the LevelDB metadata database at
 * `<root>/io.containerd.metadata.v1.level/meta.db`, wrapping the content plugin's store. It
 * requires the content and snapshotter types so that every backend is loaded before it, and
 * exports `path` and `policy` as containerd's bolt plugin does.
 */
export const levelMetadataPlugin = definePlugin<LevelMetadataStore, LevelMetadataConfig>({
  type: PluginType.Metadata,
  id: 'level',
  requires: [PluginType.Content, PluginType.Snapshot],
  config: {
    schema: {
      content_sharing_policy: {
        type: 'string',
        doc: 'how blobs are shared between namespaces: "shared" lets a namespace take a blob another one stored by its digest; "isolated" makes it write the bytes (each blob is still stored once)',
        enum: ['shared', 'isolated'],
      },
    },
    defaults: { content_sharing_policy: 'shared' },
  },
  async init(ic) {
    const policy = ic.config.content_sharing_policy;
    if (policy !== 'shared' && policy !== 'isolated') {
      throw new InvalidArgumentError(`content sharing policy ${JSON.stringify(policy)}: must be "shared" or "isolated"`);
    }
    const backing = ic.get(ContentStore);
    const path = join(ic.rootDir, 'meta.db');
    const db = await openMetadataDB(path);
    if (db.migrated.length > 0) ic.log.info({ path, versions: db.migrated }, 'metadata database migrated');
    const content = db.contentStore(backing, policy);
    for (const [name, backend] of ic.getByType(Snapshotter)) await db.addSnapshotter(name, backend).recover();
    ic.meta.exports.path = path;
    ic.meta.exports.policy = ic.config.content_sharing_policy;
    return {
      db,
      path,
      namespaces: db.namespaces,
      images: db.images,
      containers: db.containers,
      leases: db.leases,
      content: (ns, opts) => content.forNamespace(ns, opts),
      snapshotter: (name, ns, opts) => db.snapshotter(name).forNamespace(ns, opts),
      snapshotterNames: () => [...db.snapshotterNames],
      collectGarbage: () => db.gc.collect(),
      onMutation: (fn) => db.onMutation(fn),
      close: () => db.close(),
      collectMetrics: () => collectMetadataMetrics(db, content),
    };
  },
});

/** metadataLevelPlugins lists this package's plugin registrations, for the daemon's builtins. */
export const metadataLevelPlugins = [levelMetadataPlugin];
