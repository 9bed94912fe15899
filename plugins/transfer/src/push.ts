import { readBlob, type ContentStore } from '@ctrd/content';
import { isAlreadyExists, isNotFound } from '@ctrd/errdefs';
import { parseImageDocument } from '@ctrd/images';
import {
  allPlatforms, isIndexType, isManifestType, orderedMatcher, stripParams,
  type Descriptor, type Index, type Manifest, type Platform, type Pusher,
} from '@ctrd/remotes';
import { Limiter } from './limiter.js';
import type { ProgressEvent, RegistryOptions, TransferDeps } from './types.js';

/** PROGRESS_INTERVAL_MS spaces the byte-count reports of one upload. */
const PROGRESS_INTERVAL_MS = 100;

/** PushOptions describe one push. */
export interface PushOptions {
  namespace: string;
  /** the local image name. */
  name: string;
  /** where to push, a normalised reference; the image name when absent. */
  ref?: string;
  /** only these platforms of an index (all that are present locally when empty). */
  platforms?: Platform[];
  registry?: RegistryOptions;
  /** blobs uploaded at once (3 by default). */
  maxConcurrentUploads?: number;
  signal?: AbortSignal;
  onProgress?(ev: ProgressEvent): void;
}

/** PushResult reports a push: what was sent and what the registry already had. */
export interface PushResult {
  ref: string;
  target: Descriptor;
  pushed: string[];
  skipped: string[];
  /** bytes uploaded (blobs the registry had count nothing). */
  transferred: number;
  /** the size of everything the push covered, uploaded or skipped. */
  total: number;
}

async function present(content: ContentStore, digest: string): Promise<boolean> {
  try {
    await content.info(digest);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * pushImage uploads a local image: its layers and configs first (several at once), then its
 * manifests, then the index, so that a registry never holds a manifest whose blobs are
 * missing. Blobs the registry has are skipped (reported as `exists`). The root goes under the
 * reference's tag, the manifests of an index under their digests. Children of an index that
 * are not present locally are left out, as are platforms not asked for.
 */
export async function pushImage(deps: TransferDeps, o: PushOptions): Promise<PushResult> {
  const image = await deps.images.get(o.namespace, o.name);
  const ref = o.ref || o.name;
  const content = deps.content(o.namespace);
  const matcher = o.platforms?.length ? orderedMatcher(...o.platforms) : allPlatforms;
  const blobs = new Map<string, Descriptor>();
  const manifests: Descriptor[] = [];
  const visit = async (desc: Descriptor): Promise<void> => {
    const mt = stripParams(desc.mediaType);
    if (isIndexType(mt)) {
      const idx = parseImageDocument<Index>(await readBlob(content, desc), mt, desc.digest);
      for (const child of idx.manifests ?? []) {
        if (child.platform && !matcher.match(child.platform)) continue;
        if (await present(content, child.digest)) await visit(child);
      }
    } else if (isManifestType(mt)) {
      const m = parseImageDocument<Manifest>(await readBlob(content, desc), mt, desc.digest);
      for (const b of [m.config, ...(m.layers ?? [])]) if (b) blobs.set(b.digest, b);
    }
    manifests.push(desc);
  };
  const target = { ...image.target } as Descriptor;
  await visit(target);

  const resolver = deps.resolver(o.registry ?? {});
  try {
    const pusher = await resolver.pusher(ref);
    const pushed: string[] = [];
    const skipped: string[] = [];
    let transferred = 0;
    const signal = o.signal ? { signal: o.signal } : {};
    const one = async (p: Pusher, desc: Descriptor, byDigest: boolean): Promise<void> => {
      const report = (state: 'uploading' | 'done' | 'exists', offset: number) =>
        o.onProgress?.({ type: 'blob', digest: desc.digest, mediaType: desc.mediaType, state, offset, total: desc.size });
      report('uploading', 0);
      let sent = 0;
      const source = async () => {
        const ra = await content.readerAt({ digest: desc.digest, size: desc.size });
        // Each call is a new attempt from byte 0 (a retry or a redirect): the count restarts.
        let offset = 0;
        let last = 0;
        return (async function* () {
          try {
            for await (const chunk of ra.stream()) {
              yield chunk;
              offset += chunk.length;
              sent = Math.max(sent, offset);
              const now = Date.now();
              if (now - last >= PROGRESS_INTERVAL_MS) {
                last = now;
                report('uploading', offset);
              }
            }
          } finally {
            await ra.close();
          }
        })();
      };
      try {
        await p.push(desc, source, { byDigest, ...signal });
        pushed.push(desc.digest);
        transferred += sent;
        report('done', desc.size);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        skipped.push(desc.digest);
        report('exists', desc.size);
      }
    };
    const limiter = new Limiter(o.maxConcurrentUploads || 3);
    for (const b of blobs.values()) {
      o.onProgress?.({ type: 'blob', digest: b.digest, mediaType: b.mediaType, state: 'waiting', offset: 0, total: b.size });
    }
    const results = await Promise.allSettled([...blobs.values()].map((b) => limiter.run(() => one(pusher, b, true))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // Children before parents: visit pushed the root last.
    for (const m of manifests) await one(pusher, m, m.digest !== target.digest);
    const total = [...blobs.values(), ...manifests].reduce((a, d) => a + d.size, 0);
    return { ref, target, pushed, skipped, transferred, total };
  } finally {
    await resolver.close?.().catch(() => undefined);
  }
}
