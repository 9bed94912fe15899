import type { MetricFamily } from '@ctrd/plugin';
import { kindName } from '@ctrd/snapshots';
import type { MetadataDB } from './metadata-db.js';
import type { NamespacedContentStore } from './namespaced-content.js';

/**
 * collectMetadataMetrics counts what the metadata database holds, per namespace: images,
 * containers, leases, blobs and their bytes, and snapshots by snapshotter and kind. It reads
 * through the same stores the services use, so a scrape sees what `ctr` would list.
 */
export async function collectMetadataMetrics(db: MetadataDB, content: NamespacedContentStore): Promise<MetricFamily[]> {
  const images: MetricFamily = { name: 'images', help: 'Image records per namespace.', type: 'gauge', samples: [] };
  const containers: MetricFamily = { name: 'containers', help: 'Container records per namespace.', type: 'gauge', samples: [] };
  const leases: MetricFamily = { name: 'leases', help: 'Leases per namespace.', type: 'gauge', samples: [] };
  const blobs: MetricFamily = { name: 'content_blobs', help: 'Committed blobs referenced by each namespace.', type: 'gauge', samples: [] };
  const bytes: MetricFamily = { name: 'content_size_bytes', help: 'Total size of the blobs referenced by each namespace.', type: 'gauge', samples: [] };
  const snapshots: MetricFamily = { name: 'snapshots', help: 'Snapshots per namespace, snapshotter and kind.', type: 'gauge', samples: [] };
  for (const { name: namespace } of await db.namespaces.list()) {
    const labels = { namespace };
    images.samples.push({ labels, value: (await db.images.list(namespace)).length });
    containers.samples.push({ labels, value: (await db.containers.list(namespace)).length });
    leases.samples.push({ labels, value: (await db.leases.list(namespace)).length });
    let count = 0;
    let size = 0;
    await content.forNamespace(namespace).walk((info) => {
      count++;
      size += info.size;
    });
    blobs.samples.push({ labels, value: count });
    bytes.samples.push({ labels, value: size });
    for (const snapshotter of db.snapshotterNames) {
      const kinds = new Map<string, number>();
      await db.snapshotter(snapshotter).forNamespace(namespace).walk((info) => {
        kinds.set(kindName(info.kind), (kinds.get(kindName(info.kind)) ?? 0) + 1);
      });
      for (const [kind, value] of kinds) snapshots.samples.push({ labels: { namespace, snapshotter, kind }, value });
    }
  }
  return [images, containers, leases, blobs, bytes, snapshots];
}
