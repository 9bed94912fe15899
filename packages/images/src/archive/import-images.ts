import type { Readable } from 'node:stream';
import { readBlob } from '@ctrd/content';
import { InvalidArgumentError, isNotFound } from '@ctrd/errdefs';
import type { Image, ImageInput, ImageStore } from '@ctrd/metadata';
import {
  allPlatforms,
  defaultMatcher,
  parsePlatform,
  strictMatcher,
  type Descriptor,
  type Index,
  type PlatformMatcher,
} from '@ctrd/remotes';
import { childrenOf, parseImageDocument, platformFilter, setChildrenLabels, walkNotEmpty, type Handler } from '../handlers.js';
import { importIndex, type ImportStore } from './import-index.js';
import { addRefPrefix, digestTranslator, filterRefPrefix, imageNameOf } from './names.js';

/** ImportOptions tune {@link importImages}; {@link ctrImportOptions} builds them from ctr's flags. */
export interface ImportOptions {
  /** also name the archive's index itself. */
  indexName?: string;
  /** turns an OCI ref name (a bare tag) into an image name; `''` drops it. */
  imageRefTranslator?: (ref: string) => string;
  /** names each manifest by digest too; `''` means no name. */
  digestRef?: (digest: string) => string;
  /** skips the digest name for an entry whose image name is this (`''` when unnamed). */
  skipDigestRef?: (name: string) => boolean;
  /** the platforms whose content gets GC labels; the host's by default. */
  platform?: PlatformMatcher;
  allPlatforms?: boolean;
  /** gzip uncompressed Docker layers. */
  compress?: boolean;
}

/** ImportResult is the index stored and the images to create for it, in archive order. */
export interface ImportResult {
  index: Descriptor;
  images: ImageInput[];
}

/**
 * importImages imports an archive (see `importIndex`) and derives the images it names, as
 * `ctr images import` does: one per named entry of the index (the containerd name annotation,
 * else the translated OCI ref name), plus digest names and the index name when asked. The
 * index, and the manifests of the selected platforms, get their GC reference labels. NotFound
 * when the platform filter leaves nothing.
 */
export async function importImages(
  store: ImportStore,
  source: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const index = await importIndex(store, source, { compress: opts.compress });
  const images: ImageInput[] = [];
  if (opts.indexName) images.push({ name: opts.indexName, target: index });
  const matcher = opts.allPlatforms ? allPlatforms : (opts.platform ?? defaultMatcher());

  const top: Handler = async (desc) => {
    if (desc.digest !== index.digest) return childrenOf(store, desc);
    const idx = parseImageDocument<Index>(await readBlob(store, desc), desc.mediaType, desc.digest);
    const manifests = idx.manifests ?? [];
    for (const m of manifests) {
      const name = imageNameOf(m, opts.imageRefTranslator);
      if (name !== '') images.push({ name, target: m });
      if (opts.skipDigestRef?.(name)) continue;
      const ref = opts.digestRef?.(m.digest) ?? '';
      if (ref !== '') images.push({ name: ref, target: m });
    }
    return manifests;
  };
  await walkNotEmpty(setChildrenLabels(store, platformFilter(top, matcher, { all: opts.allPlatforms })), index);
  return { index, images };
}

/**
 * saveImages stores `images` in namespace `ns`: an existing name gets the new target, a new
 * one is created. Returns the stored records.
 */
export async function saveImages(store: ImageStore, ns: string, images: readonly ImageInput[]): Promise<Image[]> {
  const out: Image[] = [];
  for (const img of images) {
    try {
      out.push(await store.update(ns, img, ['target']));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      out.push(await store.create(ns, img));
    }
  }
  return out;
}

/** CtrImportFlags are the naming and platform flags of `ctr images import`. */
export interface CtrImportFlags {
  baseName?: string;
  digests?: boolean;
  skipDigestForNamed?: boolean;
  indexName?: string;
  /** `os/arch[/variant]`, matched strictly. */
  platform?: string;
  allPlatforms?: boolean;
  compressBlobs?: boolean;
  /** the date in the default `import-<YYYY-MM-DD>` prefix; now by default. */
  now?: Date;
}

/**
 * ctrImportOptions turns `ctr images import` flags into {@link ImportOptions}: without
 * `--base-name`, bare tags get the prefix `import-<date>`; with it, only names under the base
 * are kept. `--digests` names manifests `<prefix>@<digest>`.
 */
export function ctrImportOptions(flags: CtrImportFlags): ImportOptions {
  const opts: ImportOptions = {};
  let prefix = flags.baseName ?? '';
  if (prefix === '') {
    const d = flags.now ?? new Date();
    const pad = (n: number): string => String(n).padStart(2, '0');
    prefix = `import-${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    opts.imageRefTranslator = addRefPrefix(prefix);
  } else {
    opts.imageRefTranslator = filterRefPrefix(prefix);
  }
  if (flags.digests) opts.digestRef = digestTranslator(prefix);
  if (flags.skipDigestForNamed) {
    if (!flags.digests) throw new InvalidArgumentError('--skip-digest-for-named must be specified with --digests option');
    opts.skipDigestRef = (name) => name !== '';
  }
  if (flags.indexName) opts.indexName = flags.indexName;
  if (flags.compressBlobs) opts.compress = true;
  if (flags.platform) opts.platform = strictMatcher(parsePlatform(flags.platform));
  opts.allPlatforms = flags.allPlatforms ?? false;
  return opts;
}
