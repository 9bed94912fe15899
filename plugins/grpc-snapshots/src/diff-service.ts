import { DiffService } from '@ctrd/api/gen/containerd/services/diff/v1/diff.js';
import type { ContentStore } from '@ctrd/content';
import type { Differ } from '@ctrd/diff';
import { bindService, type BoundService } from '@ctrd/grpc';
import type { MetadataStore } from '@ctrd/metadata';
import { descriptorIn, descriptorOut, mountIn } from './convert.js';

/** DifferFactory builds a differ over one namespace's content store. */
export type DifferFactory = (store: ContentStore) => Differ;

/** DiffServiceDeps are what the Diff service is built on. */
export interface DiffServiceDeps {
  metadata: Pick<MetadataStore, 'content'>;
  differFor: DifferFactory;
}

/**
 * diffService binds `containerd.services.diff.v1.Diff`. Each call runs a differ over the content
 * store as the request's namespace sees it, under its lease, so Apply reads only blobs that
 * namespace references and Diff's new layer belongs to it. Apply's `payloads` are ignored.
 */
export function diffService({ metadata, differFor }: DiffServiceDeps): BoundService {
  return bindService(DiffService, {
    async apply(req, ctx) {
      const differ = differFor(metadata.content(ctx.namespace, { lease: ctx.lease }));
      const applied = await differ.apply(descriptorIn(req.diff), req.mounts.map(mountIn), { signal: ctx.signal });
      return { applied: descriptorOut(applied) };
    },
    async diff(req, ctx) {
      const differ = differFor(metadata.content(ctx.namespace, { lease: ctx.lease }));
      const desc = await differ.compare(req.left.map(mountIn), req.right.map(mountIn), {
        mediaType: req.mediaType || undefined,
        ref: req.ref || undefined,
        labels: { ...req.labels },
        signal: ctx.signal,
      });
      return { diff: descriptorOut(desc) };
    },
  });
}
