import { readBlob, type Manager, type Provider } from '@ctrd/content';
import { InvalidArgumentError, NotFoundError, isInvalidArgument, isNotFound } from '@ctrd/errdefs';
import {
  isConfigType,
  isIndexType,
  isManifestType,
  normalizePlatform,
  stripParams,
  type Descriptor,
  type ImageConfig,
  type Index,
  type Manifest,
  type Platform,
  type PlatformMatcher,
} from '@ctrd/remotes';
import type { Snapshotter, Usage } from '@ctrd/snapshots';
import { chainIds } from './chain-id.js';
import { SKIP, childrenHandler, handlers, limitManifests, parseImageDocument, platformFilter, sortByPlatform, walk } from './handlers.js';

/** ResolvedImage is the manifest and config a target resolves to for one platform. */
export interface ResolvedImage {
  /** the manifest's descriptor (the target itself when it is a manifest). */
  manifestDesc: Descriptor;
  manifest: Manifest;
  configDesc: Descriptor;
  config: ImageConfig;
}

async function readJson<T>(provider: Provider, desc: Descriptor): Promise<T> {
  const bytes = await readBlob(provider, desc);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch (err) {
    throw new InvalidArgumentError(`invalid JSON in ${desc.digest}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * configPlatform is the normalised platform of an image config, from its os and architecture
 * only (its variant is ignored, as containerd does when it names an imported manifest).
 */
export function configPlatform(config: ImageConfig): Platform {
  return normalizePlatform({ os: config.os, architecture: config.architecture });
}

/**
 * resolveManifest finds the manifest `target` stands for on a platform `matcher` accepts: the
 * target itself if it is a manifest, else the best match of its index (nested indexes
 * followed). A manifest without a platform in its index entry is judged by its config's
 * os/architecture. NotFound when nothing matches (`no match for platform in manifest …`).
 */
export async function resolveManifest(
  provider: Provider,
  target: Descriptor,
  matcher: PlatformMatcher,
): Promise<{ desc: Descriptor; manifest: Manifest }> {
  const found: Array<{ desc: Descriptor; manifest: Manifest }> = [];
  let wasIndex = false;
  await walk(async (desc) => {
    const mt = stripParams(desc.mediaType);
    if (isManifestType(mt)) {
      const manifest = parseImageDocument<Manifest>(await readBlob(provider, desc), mt, desc.digest);
      if (desc.digest !== target.digest) {
        if (desc.platform && !matcher.match(desc.platform)) return [];
        if (!desc.platform) {
          const config = await readJson<ImageConfig>(provider, manifest.config);
          if (!matcher.match(configPlatform(config))) return [];
        }
      }
      found.push({ desc, manifest });
      return [];
    }
    if (isIndexType(mt)) {
      const idx = parseImageDocument<Index>(await readBlob(provider, desc), mt, desc.digest);
      wasIndex = true;
      const keep = (idx.manifests ?? []).filter((d) => !d.platform || matcher.match(d.platform));
      return sortByPlatform(keep, matcher).slice(0, 1);
    }
    throw new NotFoundError(`unexpected media type ${desc.mediaType} for ${desc.digest}`);
  }, target);
  const first = found[0];
  if (!first) {
    throw new NotFoundError(wasIndex ? `no match for platform in manifest ${target.digest}` : `manifest ${target.digest}`);
  }
  return first;
}

/** imageConfig resolves `target` for `matcher` (see {@link resolveManifest}) and reads its config. */
export async function imageConfig(provider: Provider, target: Descriptor, matcher: PlatformMatcher): Promise<ResolvedImage> {
  const { desc, manifest } = await resolveManifest(provider, target, matcher);
  if (!manifest.config || !isConfigType(manifest.config.mediaType ?? '')) {
    throw new InvalidArgumentError(`manifest ${desc.digest} has no image config`);
  }
  const config = await readJson<ImageConfig>(provider, manifest.config);
  return { manifestDesc: desc, manifest, configDesc: manifest.config, config };
}

/** rootFS returns the diffIDs a config lists, checking that there are as many as `layers` when given. */
export function rootFS(config: ImageConfig, layers?: readonly Descriptor[]): string[] {
  const ids = config.rootfs?.diff_ids;
  if (!Array.isArray(ids)) throw new InvalidArgumentError('image config has no rootfs.diff_ids');
  if (layers && layers.length !== ids.length) {
    throw new InvalidArgumentError(`number of layers and diffIDs don't match: ${layers.length} != ${ids.length}`);
  }
  return [...ids];
}

/** imageChainIds resolves `target` and returns the chain IDs of its layers, bottom first. */
export async function imageChainIds(provider: Provider, target: Descriptor, matcher: PlatformMatcher): Promise<string[]> {
  const { config } = await imageConfig(provider, target, matcher);
  return chainIds(rootFS(config));
}

/**
 * packedSize sums the sizes of the blobs one platform of `target` needs: the index(es), the
 * best matching manifest, its config and its layers, as `ctr images ls` reports it.
 */
export async function packedSize(provider: Provider, target: Descriptor, matcher: PlatformMatcher): Promise<number> {
  let size = 0;
  const count = async (desc: Descriptor): Promise<void> => {
    if (!(desc.size >= 0)) throw new InvalidArgumentError(`invalid size ${desc.size} in ${desc.digest} (${desc.mediaType})`);
    size += desc.size;
  };
  await walk(handlers(count, limitManifests(platformFilter(childrenHandler(provider), matcher), matcher, 1)), target);
  return size;
}

/**
 * unpackedSize sums the usage of the committed snapshots named by `chain` (each counts only its
 * own layer); snapshots that do not exist count nothing.
 */
export async function unpackedSize(snapshotter: Pick<Snapshotter, 'usage'>, chain: readonly string[]): Promise<Usage> {
  const total: Usage = { size: 0, inodes: 0 };
  for (const id of chain) {
    try {
      const u = await snapshotter.usage(id);
      total.size += u.size;
      total.inodes += u.inodes;
    } catch (err) {
      if (!isNotFound(err) && !isInvalidArgument(err)) throw err;
    }
  }
  return total;
}

/** isUnpacked tells whether the snapshot of the top chain ID of `target` exists in `snapshotter`. */
export async function isUnpacked(
  provider: Provider,
  snapshotter: Pick<Snapshotter, 'stat'>,
  target: Descriptor,
  matcher: PlatformMatcher,
): Promise<boolean> {
  const chain = await imageChainIds(provider, target, matcher);
  const top = chain.at(-1);
  if (top === undefined) return true;
  try {
    await snapshotter.stat(top);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** CheckResult is what {@link check} finds, as `ctr images check` reports it. */
export interface CheckResult {
  /** false when the manifest itself could not be found. */
  available: boolean;
  required: Descriptor[];
  present: Descriptor[];
  missing: Descriptor[];
}

/**
 * check lists the blobs one platform of `target` requires (its config and layers) and which of
 * them the store holds. A missing manifest makes the image unavailable, with the target as the
 * only required and missing blob.
 */
export async function check(
  provider: Provider & Pick<Manager, 'info'>,
  target: Descriptor,
  matcher: PlatformMatcher,
): Promise<CheckResult> {
  let manifest: Manifest;
  try {
    manifest = (await resolveManifest(provider, target, matcher)).manifest;
  } catch (err) {
    if (isNotFound(err)) return { available: false, required: [target], present: [], missing: [target] };
    throw err;
  }
  const required = [manifest.config, ...(manifest.layers ?? [])];
  const present: Descriptor[] = [];
  const missing: Descriptor[] = [];
  for (const d of required) {
    try {
      await provider.info(d.digest);
      present.push(d);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      missing.push(d);
    }
  }
  return { available: true, required, present, missing };
}

/**
 * imagePlatforms lists the platforms `target` offers: the platform of each index entry that
 * has one, else the os/architecture of each config found.
 */
export async function imagePlatforms(provider: Provider, target: Descriptor): Promise<Platform[]> {
  const out: Platform[] = [];
  const children = childrenHandler(provider);
  await walk(async (desc) => {
    if (desc.platform) {
      out.push(desc.platform);
      return SKIP;
    }
    if (isConfigType(desc.mediaType)) {
      out.push(configPlatform(await readJson<ImageConfig>(provider, desc)));
      return [];
    }
    return children(desc);
  }, target);
  return out;
}
