import {
  isConfigType,
  isIndexType,
  isManifestType,
  normalizePlatform,
  stripParams,
  type Descriptor,
  type ImageConfig,
  type Platform,
  type PlatformMatcher,
} from '@ctrd/remotes';

// The parts of @ctrd/images' packedSize, imagePlatforms and imageChainIds that `images ls`
// needs, over a blob reader instead of a content store: @ctrd/images' entry point brings in
// its unpack and archive code (tar-stream, the logger, the DI container), several times the
// cost of the command itself. Only the success path is reproduced: where those functions
// throw, these throw too (with no promise of the same words), and the caller falls back to
// the full client, which reports as it always has. image-walk-lean.test.ts holds the two to
// the same answers.

/** BlobRead returns the whole blob a descriptor names. */
export type BlobRead = (desc: Descriptor) => Promise<Uint8Array>;

interface ImageDocument {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  fsLayers?: unknown;
}

async function readJson<T>(read: BlobRead, desc: Descriptor): Promise<T> {
  return JSON.parse(Buffer.from(await read(desc)).toString('utf8')) as T;
}

async function readDocument(read: BlobRead, desc: Descriptor, mediaType: string): Promise<ImageDocument> {
  const doc = await readJson<ImageDocument>(read, desc);
  if (doc === null || typeof doc !== 'object') throw new Error(`invalid desc ${desc.digest}: not an object`);
  if (Array.isArray(doc.fsLayers) && doc.fsLayers.length > 0) throw new Error(`invalid desc ${desc.digest}: schema 1`);
  const has = (v: unknown): boolean => v !== undefined && v !== null;
  if (isManifestType(mediaType) && (has(doc.manifests) || (doc.mediaType !== undefined && isIndexType(doc.mediaType)))) {
    throw new Error(`invalid desc ${desc.digest}: expected manifest but found index`);
  }
  if (isIndexType(mediaType) && (has(doc.config) || has(doc.layers) || (doc.mediaType !== undefined && isManifestType(doc.mediaType)))) {
    throw new Error(`invalid desc ${desc.digest}: expected index but found manifest`);
  }
  return doc;
}

async function childrenOf(read: BlobRead, desc: Descriptor): Promise<Descriptor[]> {
  const mt = stripParams(desc.mediaType);
  if (isManifestType(mt)) {
    const m = await readDocument(read, desc, mt);
    return [...(m.config ? [m.config] : []), ...(m.layers ?? [])];
  }
  if (isIndexType(mt)) return [...((await readDocument(read, desc, mt)).manifests ?? [])];
  return [];
}

/** sortByPlatform orders descriptors by `matcher`'s preference, stably; ones without a platform go last. */
function sortByPlatform(descs: readonly Descriptor[], matcher: PlatformMatcher): Descriptor[] {
  return descs
    .map((d, i) => ({ d, i }))
    .sort((x, y) => {
      const a = x.d.platform;
      const b = y.d.platform;
      if (!a && !b) return x.i - y.i;
      if (!a) return 1;
      if (!b) return -1;
      if (matcher.less(a, b)) return -1;
      if (matcher.less(b, a)) return 1;
      return x.i - y.i;
    })
    .map((x) => x.d);
}

/**
 * leanPackedSize sums the sizes of the blobs one platform of `target` needs (the index(es), the
 * best matching manifest, its config and layers), reading sibling blobs concurrently.
 */
export async function leanPackedSize(read: BlobRead, target: Descriptor, matcher: PlatformMatcher): Promise<number> {
  let size = 0;
  const visit = async (desc: Descriptor): Promise<void> => {
    if (typeof desc.size !== 'number' || !(desc.size >= 0)) throw new Error(`invalid size in ${desc.digest}`);
    size += desc.size;
    let children = (await childrenOf(read, desc)).filter((d) => !d.platform || matcher.match(d.platform));
    if (isIndexType(desc.mediaType)) {
      children = sortByPlatform(children, matcher);
      if (children.length === 0) throw new Error('no match for platform in manifest');
      children = children.slice(0, 1);
    }
    await Promise.all(children.map(visit));
  };
  await visit(target);
  return size;
}

/**
 * leanImagePlatforms lists the platforms `target` offers: the platform of each index entry that
 * has one, else the os/architecture of each config found. The order is not meaningful.
 */
export async function leanImagePlatforms(read: BlobRead, target: Descriptor): Promise<Platform[]> {
  const out: Platform[] = [];
  const visit = async (desc: Descriptor): Promise<void> => {
    if (desc.platform) {
      out.push(desc.platform);
      return;
    }
    if (isConfigType(desc.mediaType)) {
      const config = await readJson<ImageConfig>(read, desc);
      out.push(normalizePlatform({ os: config.os, architecture: config.architecture }));
      return;
    }
    await Promise.all((await childrenOf(read, desc)).map(visit));
  };
  await visit(target);
  return out;
}

async function resolveManifest(read: BlobRead, target: Descriptor, matcher: PlatformMatcher): Promise<ImageDocument> {
  for (let desc = target; ; ) {
    const mt = stripParams(desc.mediaType);
    if (isManifestType(mt)) {
      const manifest = await readDocument(read, desc, mt);
      if (desc.digest !== target.digest) {
        if (desc.platform && !matcher.match(desc.platform)) break;
        if (!desc.platform) {
          const config = await readJson<ImageConfig>(read, manifest.config!);
          if (!matcher.match(normalizePlatform({ os: config.os, architecture: config.architecture }))) break;
        }
      }
      return manifest;
    }
    if (!isIndexType(mt)) break;
    const idx = await readDocument(read, desc, mt);
    const best = sortByPlatform((idx.manifests ?? []).filter((d) => !d.platform || matcher.match(d.platform)), matcher)[0];
    if (!best) break;
    desc = best;
  }
  throw new Error(`no manifest of ${target.digest} matches the platform`);
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * sha256Hex loads node:crypto on first use: its load is ~2 ms of a `ctrctl images ls` that only
 * needs it for images of more than one layer.
 */
function sha256Hex(text: string): string {
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(text).digest('hex');
}

/** leanChainIds resolves `target` for `matcher` and returns the chain IDs of its layers, bottom first. */
export async function leanChainIds(read: BlobRead, target: Descriptor, matcher: PlatformMatcher): Promise<string[]> {
  const manifest = await resolveManifest(read, target, matcher);
  if (!manifest.config || !isConfigType(manifest.config.mediaType ?? '')) throw new Error('manifest has no image config');
  const config = await readJson<ImageConfig>(read, manifest.config);
  const ids = config.rootfs?.diff_ids;
  if (!Array.isArray(ids)) throw new Error('image config has no rootfs.diff_ids');
  const out: string[] = [];
  let prev = '';
  for (const d of ids) {
    if (typeof d !== 'string' || !DIGEST.test(d)) throw new Error(`invalid diffID ${JSON.stringify(d)}`);
    prev = prev === '' ? d : `sha256:${sha256Hex(`${prev} ${d}`)}`;
    out.push(prev);
  }
  return out;
}
