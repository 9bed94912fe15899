import type { Image } from '@ctrd/metadata';
import { formatPlatform, type Descriptor, type PlatformMatcher } from '@ctrd/remotes';
import { LeanCallError, leanCall, leanSession, leanUnaryMessage, type LeanCallOptions, type LeanSession } from '../lean-grpc.js';
import { leanChainIds, leanImagePlatforms, leanPackedSize, type BlobRead } from './image-walk-lean.js';
import type { ImageArgs } from './images.js';
import { matcherOf, printImageNames, printImageRows, type ImageRow } from './images-ls-output.js';
import {
  CONTENT_READ,
  IMAGES_LIST,
  SNAPSHOTS_USAGE,
  decodeListImagesResponse,
  decodeReadContentResponse,
  decodeUsageResponse,
  encodeListImagesRequest,
  encodeReadContentRequest,
  encodeUsageRequest,
} from './images-ls-wire.js';

// gRPC status codes the unpacked size treats as the full client does: a snapshot that is not
// there (NOT_FOUND, INVALID_ARGUMENT) counts nothing; no Snapshots service (UNIMPLEMENTED)
// leaves this and every later image's unpacked size unknown.
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;
const UNIMPLEMENTED = 12;

/** blobReader reads whole blobs with Content.Read, each digest once however often it is asked for. */
function blobReader(session: LeanSession, opts: LeanCallOptions): BlobRead {
  const cache = new Map<string, Promise<Uint8Array>>();
  const fetch = async (digest: string): Promise<Uint8Array> => {
    const parts: Uint8Array[] = [];
    let at = 0;
    for (const m of await leanCall(session, CONTENT_READ, encodeReadContentRequest(digest), opts)) {
      const { offset, data } = decodeReadContentResponse(m);
      if (offset !== at) throw new Error(`read of ${digest}: chunk at ${offset}, expected ${at}`);
      parts.push(data);
      at += data.length;
    }
    return Buffer.concat(parts);
  };
  return (desc: Descriptor) => {
    let blob = cache.get(desc.digest);
    if (!blob) cache.set(desc.digest, (blob = fetch(desc.digest)));
    return blob;
  };
}

type Unpacked = number | undefined | 'absent';

/** usageOf is one snapshot's size, or the gRPC status the daemon refused Usage with. */
async function usageOf(session: LeanSession, snapshotter: string, key: string, opts: LeanCallOptions): Promise<{ size: number } | { code: number }> {
  try {
    return { size: decodeUsageResponse(await leanUnaryMessage(session, SNAPSHOTS_USAGE, encodeUsageRequest(snapshotter, key), opts)).size };
  } catch (err) {
    // A status the daemon answered with is what the full client tolerates; a failed exchange is not.
    if (err instanceof LeanCallError && err.code !== undefined) return { code: err.code };
    throw err;
  }
}

/**
 * unpackedOf sums the usage of the image's snapshots as @ctrd/images' unpackedSize does, asking
 * for all of them at once: the first refusal in chain order, other than "no such snapshot",
 * makes the size unknown, and UNIMPLEMENTED says so for every later image too.
 */
async function unpackedOf(session: LeanSession, read: BlobRead, img: Image, matcher: PlatformMatcher, snapshotter: string, opts: LeanCallOptions): Promise<Unpacked> {
  const chain = await leanChainIds(read, img.target, matcher);
  const usages = await Promise.all(chain.map((key) => usageOf(session, snapshotter, key, opts)));
  let total = 0;
  for (const u of usages) {
    if ('size' in u) total += u.size;
    else if (u.code === UNIMPLEMENTED) return 'absent';
    else if (u.code !== NOT_FOUND && u.code !== INVALID_ARGUMENT) return undefined;
  }
  return total;
}

// Images walked at once: enough to keep the daemon busy, few enough that a thousand images do
// not open thousands of streams on one connection.
const IMAGES_AT_ONCE = 16;

/** mapLimited maps `items` with at most `limit` calls of `fn` in flight, keeping their order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

async function rowsOf(session: LeanSession, images: readonly Image[], argv: ImageArgs, opts: LeanCallOptions): Promise<ImageRow[]> {
  const matcher = matcherOf(argv.platform);
  const read = blobReader(session, opts);
  const snapshotter = argv.snapshotter ?? 'overlayfs';
  const found = await mapLimited(images, IMAGES_AT_ONCE, async (img) => {
    const [size, platforms, unpacked] = await Promise.all([
      leanPackedSize(read, img.target, matcher),
      leanImagePlatforms(read, img.target),
      unpackedOf(session, read, img, matcher, snapshotter, opts),
    ]);
    return { img, size, unpacked, platforms: [...new Set(platforms.map(formatPlatform))].sort() };
  });
  let absent = false;
  return found.map((r) => {
    if (r.unpacked === 'absent') absent = true;
    return { ...r, unpacked: absent || r.unpacked === 'absent' ? undefined : r.unpacked };
  });
}

/**
 * imagesLsLean prints what `images ls` prints (with `-q` and `--format json` alike), talking to
 * the daemon over a lean HTTP/2 connection instead of the full client. It returns false, having
 * printed nothing, when any part of the exchange fails or anything looks unusual (a blob that
 * cannot be read or parsed, an image without a matching platform): the caller then runs
 * `images ls`, which reports, warns and prints in its usual words.
 */
export async function imagesLsLean(argv: ImageArgs): Promise<boolean> {
  const socket = argv.address.startsWith('unix://') ? argv.address.slice('unix://'.length) : argv.address;
  const opts: LeanCallOptions = { timeoutMs: argv.timeout ? argv.timeout * 1000 : 0, namespace: argv.namespace };
  let session: LeanSession | undefined;
  let images: Image[];
  let rows: ImageRow[] | undefined;
  try {
    session = await leanSession(socket);
    images = decodeListImagesResponse(await leanUnaryMessage(session, IMAGES_LIST, encodeListImagesRequest(argv.filters ?? []), opts));
    if (!argv.quiet) rows = await rowsOf(session, images, argv, opts);
  } catch {
    return false;
  } finally {
    session?.close();
  }
  if (rows) printImageRows(rows, argv.format);
  else printImageNames(images);
  return true;
}
