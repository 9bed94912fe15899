import { randomBytes } from 'node:crypto';
import type { ContentStore } from '@ctrd/content';
import { InvalidArgumentError, NotFoundError, isAlreadyExists } from '@ctrd/errdefs';
import { GC_SNAPSHOT_LABEL_PREFIX, childLabelsOf, chainIds, parseImageDocument, rootFS, sortByPlatform } from '@ctrd/images';
import {
  allPlatforms, defaultMatcher, isIndexType, isManifestType, orderedMatcher, stripParams,
  type Descriptor, type ImageConfig, type Index, type Manifest, type PlatformMatcher,
} from '@ctrd/remotes';
import { downloadBlob, fetchDocument, type DownloadContext } from './blob-download.js';
import { LayerTee } from './layer-tee.js';
import { unpackLayer, type LayerJob } from './layer-unpack.js';
import { Limiter } from './limiter.js';
import type { PullOptions, PullResult, TransferDeps } from './types.js';
import { prewarmApplyWorker } from '@ctrd/differ-walking';

/** LEASE_EXPIRY_MS is how long a pull's lease protects what it wrote if the pull never ends (24 h, as containerd). */
export const LEASE_EXPIRY_MS = 24 * 60 * 60 * 1000;
/** DEFAULT_MAX_DOWNLOADS is the number of layers downloaded at once by default. */
export const DEFAULT_MAX_DOWNLOADS = 3;

interface Selected {
  desc: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

function leaseId(): string {
  return `${process.hrtime.bigint()}-${randomBytes(6).toString('base64url')}`;
}

function matcherOf(o: PullOptions): PlatformMatcher {
  if (o.allPlatforms) return allPlatforms;
  if (o.platforms?.length) return orderedMatcher(...o.platforms);
  return defaultMatcher();
}

function parseJson<T>(bytes: Uint8Array, desc: Descriptor): T {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch (err) {
    throw new InvalidArgumentError(`invalid JSON in ${desc.digest}: ${(err as Error).message}`, { cause: err });
  }
}

async function label(content: ContentStore, digest: string, labels: Record<string, string>): Promise<void> {
  const keys = Object.keys(labels);
  if (keys.length) await content.update({ digest, labels }, keys.map((k) => `labels.${k}`));
}

/**
 * Puller pulls images into a namespace: resolve, then inside a 24 h lease fetch the index or
 * manifest, pick platforms, fetch configs, download the layers concurrently into the content
 * store through shared ingests (so concurrent pulls download each blob once and an interrupted
 * pull resumes), unpack them in chain order while they download, record the image and drop the
 * lease. A failed pull keeps its lease, so that the partial ingests wait for a retry.
 */
export class Puller {
  readonly #deps: TransferDeps;

  constructor(deps: TransferDeps) {
    this.#deps = deps;
  }

  /** pull runs one pull, or (with `unpack` false) one fetch. */
  async pull(o: PullOptions): Promise<PullResult> {
    const started = Date.now();
    const deps = this.#deps;
    const unpack = o.unpack ?? true;
    const resolver = deps.resolver(o.registry ?? {});
    if (unpack) prewarmApplyWorker();
    try {
      const resolved = await resolver.resolve(o.ref, o.signal ? { signal: o.signal } : {});
      const target = resolved.descriptor;
      const lease = await deps.leases.create(o.namespace, {
        id: leaseId(),
        labels: { 'containerd.io/gc.expire': new Date(Date.now() + LEASE_EXPIRY_MS).toISOString().replace(/\.\d+Z$/, 'Z') },
      });
      const content = deps.content(o.namespace, lease.id);
      let transferred = 0;
      const total = new Map<string, number>();
      const ctx: DownloadContext = {
        content,
        fetcher: resolved.fetcher,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        received: (n) => (transferred += n),
        ...(deps.hooks?.downloadEnd ? { downloadEnd: deps.hooks.downloadEnd } : {}),
      };
      const fetchDoc = async (desc: Descriptor): Promise<Uint8Array> => {
        total.set(desc.digest, desc.size);
        return fetchDocument(ctx, desc);
      };

      const selected = await this.#selectManifests(fetchDoc, content, target, o);
      const limiter = new Limiter(o.maxConcurrentDownloads || DEFAULT_MAX_DOWNLOADS);
      const downloads = new Map<string, { done: Promise<unknown>; tee: LayerTee | undefined }>();
      for (const m of selected) {
        for (const layer of m.manifest.layers ?? []) {
          if (downloads.has(layer.digest)) continue;
          total.set(layer.digest, layer.size);
          o.onProgress?.({ type: 'blob', digest: layer.digest, mediaType: layer.mediaType, state: 'waiting', offset: 0, total: layer.size });
          const tee = unpack ? new LayerTee() : undefined;
          const done = limiter.run(() => downloadBlob(ctx, layer, tee));
          done.catch(() => undefined);
          downloads.set(layer.digest, { done, tee });
        }
      }

      const chains: string[] = [];
      const unpacks: Array<Promise<void>> = [];
      if (unpack) {
        const snName = o.snapshotter || deps.defaultSnapshotter;
        const sn = deps.snapshotter(snName, o.namespace, lease.id);
        for (const m of selected) {
          const diffIds = rootFS(m.config, m.manifest.layers ?? []);
          const chain = chainIds(diffIds);
          chains.push(chain.at(-1) ?? '');
          unpacks.push((async () => {
            for (let i = 0; i < chain.length; i++) {
              const layer = m.manifest.layers[i]!;
              const dl = downloads.get(layer.digest)!;
              const job: LayerJob = { layer, diffId: diffIds[i]!, chainId: chain[i]!, parent: chain[i - 1], downloaded: dl.done, ...(dl.tee ? { tee: dl.tee } : {}) };
              await unpackLayer({
                snapshotter: sn,
                scope: `${snName}\0${o.namespace}`,
                content,
                ...(deps.mountDir ? { mountDir: deps.mountDir } : {}),
                ...(o.signal ? { signal: o.signal } : {}),
                ...(deps.hooks ? { hooks: deps.hooks } : {}),
                started: () => o.onProgress?.({ type: 'blob', digest: layer.digest, mediaType: layer.mediaType, state: 'unpacking', offset: 0, total: layer.size }),
              }, job);
              o.onProgress?.({ type: 'blob', digest: layer.digest, mediaType: layer.mediaType, state: 'done', offset: layer.size, total: layer.size });
            }
            const top = chain.at(-1);
            if (top) await label(content, m.manifest.config.digest, { [`${GC_SNAPSHOT_LABEL_PREFIX}${snName}`]: top });
          })());
        }
      }
      // Every download and unpack must settle before the lease goes; the first error wins.
      const results = await Promise.allSettled([...[...downloads.values()].map((d) => d.done), ...unpacks]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;

      if (o.createImage ?? true) await this.#record(o, resolved.name, target);
      o.onProgress?.({ type: 'image', name: resolved.name, target });
      await deps.leases.delete(o.namespace, lease.id).catch(() => undefined);
      const size = [...total.values()].reduce((a, b) => a + b, 0);
      o.onProgress?.({ type: 'done', transferred, total: size, elapsedMs: Date.now() - started, chainId: chains[0] ?? '' });
      return { name: resolved.name, target, chainIds: chains, transferred, total: size };
    } finally {
      await resolver.close?.().catch(() => undefined);
    }
  }

  /** #selectManifests fetches the target and, for an index, the manifests chosen for the pull, then their configs. */
  async #selectManifests(
    fetchDoc: (d: Descriptor) => Promise<Uint8Array>,
    content: ContentStore,
    target: Descriptor,
    o: PullOptions,
  ): Promise<Selected[]> {
    const matcher = matcherOf(o);
    const limit = o.allPlatforms || (o.platforms?.length ?? 0) > 1 ? 0 : 1;
    const out: Selected[] = [];
    const visit = async (desc: Descriptor, depth: number): Promise<void> => {
      const mt = stripParams(desc.mediaType);
      const bytes = await fetchDoc(desc);
      if (isIndexType(mt)) {
        if (depth > 4) throw new InvalidArgumentError(`index ${desc.digest} nests too deep`);
        const idx = parseImageDocument<Index>(bytes, mt, desc.digest);
        const children = idx.manifests ?? [];
        await label(content, desc.digest, childLabelsOf(children));
        let keep = sortByPlatform(children.filter((d) => (d.platform ? matcher.match(d.platform) : true)), matcher);
        if (limit > 0) keep = keep.slice(0, limit);
        for (const child of keep) await visit(child, depth + 1);
        return;
      }
      if (!isManifestType(mt)) throw new InvalidArgumentError(`unsupported media type ${desc.mediaType} for ${desc.digest}`);
      const manifest = parseImageDocument<Manifest>(bytes, mt, desc.digest);
      if (!manifest.config) throw new InvalidArgumentError(`manifest ${desc.digest} has no config`);
      await label(content, desc.digest, childLabelsOf([manifest.config, ...(manifest.layers ?? [])]));
      const config = parseJson<ImageConfig>(await fetchDoc(manifest.config), manifest.config);
      if (desc !== target && !desc.platform && matcher !== allPlatforms && !matcher.match({ os: config.os, architecture: config.architecture })) return;
      out.push({ desc, manifest: { ...manifest, layers: manifest.layers ?? [] }, config });
    };
    await visit(target, 0);
    if (out.length === 0) throw new NotFoundError(`no match for platform in manifest ${target.digest}`);
    if (limit > 0) out.splice(limit);
    return out;
  }

  async #record(o: PullOptions, name: string, target: Descriptor): Promise<void> {
    const { images } = this.#deps;
    const { platform: _p, ...plain } = target;
    const image = { name, target: plain, labels: { ...o.labels } };
    try {
      await images.create(o.namespace, image);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await images.update(o.namespace, image, ['target', ...Object.keys(image.labels).map((k) => `labels.${k}`)]);
    }
  }
}
