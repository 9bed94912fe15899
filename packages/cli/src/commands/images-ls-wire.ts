import type { Image } from '@ctrd/metadata';
import { encodeFields, wireBytes, wireFields, wireNumber, wireString } from '../proto-wire.js';

// The few containerd v1 messages `images ls` exchanges, encoded and decoded by hand so that the
// command needs neither grpc-js nor the generated API (whose service modules load grpc-js).
// Field numbers are those of containerd's api/services/{images,content,snapshots}/v1 protos.

/** IMAGES_LIST, CONTENT_READ and SNAPSHOTS_USAGE are the gRPC paths of the methods `images ls` calls. */
export const IMAGES_LIST = '/containerd.services.images.v1.Images/List';
/** CONTENT_READ is Content.Read, a server-streaming call. */
export const CONTENT_READ = '/containerd.services.content.v1.Content/Read';
/** SNAPSHOTS_USAGE is Snapshots.Usage. */
export const SNAPSHOTS_USAGE = '/containerd.services.snapshots.v1.Snapshots/Usage';

const GO_ZERO_TIME_SECONDS = -62135596800;

/** encodeListImagesRequest encodes ListImagesRequest{filters = 1}. */
export function encodeListImagesRequest(filters: readonly string[]): Uint8Array {
  return encodeFields(filters.map((f) => [1, f] as const));
}

/** encodeReadContentRequest encodes ReadContentRequest{digest = 1} for the whole blob (offset and size 0). */
export function encodeReadContentRequest(digest: string): Uint8Array {
  return encodeFields([[1, digest]]);
}

/** encodeUsageRequest encodes UsageRequest{snapshotter = 1, key = 2}. */
export function encodeUsageRequest(snapshotter: string, key: string): Uint8Array {
  return encodeFields([
    [1, snapshotter],
    [2, key],
  ]);
}

function mapEntry(buf: Uint8Array, into: Record<string, string>): void {
  let key = '';
  let value = '';
  for (const f of wireFields(buf)) {
    if (f.field === 1) key = wireString(f);
    else if (f.field === 2) value = wireString(f);
  }
  into[key] = value;
}

/** A Timestamp as the full client turns it into a Date: absent or Go's zero time is the epoch. */
function timestampDate(buf: Uint8Array | undefined): Date {
  if (!buf) return new Date(0);
  let seconds = 0;
  let nanos = 0;
  for (const f of wireFields(buf)) {
    if (f.field === 1) seconds = wireNumber(f);
    else if (f.field === 2) nanos = Number(BigInt.asIntN(32, BigInt(wireNumber(f))));
  }
  if (seconds === GO_ZERO_TIME_SECONDS && nanos === 0) return new Date(0);
  return new Date(seconds * 1000 + Math.floor(nanos / 1e6));
}

function descriptorIn(buf: Uint8Array | undefined): Image['target'] {
  let mediaType = '';
  let digest = '';
  let size = 0;
  const annotations: Record<string, string> = {};
  for (const f of buf ? wireFields(buf) : []) {
    if (f.field === 1) mediaType = wireString(f);
    else if (f.field === 2) digest = wireString(f);
    else if (f.field === 3) size = wireNumber(f);
    else if (f.field === 5) mapEntry(wireBytes(f), annotations);
  }
  return { mediaType, digest, size, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
}

function imageIn(buf: Uint8Array): Image {
  let name = '';
  const labels: Record<string, string> = {};
  let target: Uint8Array | undefined;
  let createdAt: Uint8Array | undefined;
  let updatedAt: Uint8Array | undefined;
  for (const f of wireFields(buf)) {
    if (f.field === 1) name = wireString(f);
    else if (f.field === 2) mapEntry(wireBytes(f), labels);
    else if (f.field === 3) target = wireBytes(f);
    else if (f.field === 7) createdAt = wireBytes(f);
    else if (f.field === 8) updatedAt = wireBytes(f);
  }
  return { name, labels, target: descriptorIn(target), createdAt: timestampDate(createdAt), updatedAt: timestampDate(updatedAt) };
}

/**
 * decodeListImagesResponse decodes ListImagesResponse{images = 1} into images shaped exactly as
 * the full client's RemoteImageStore returns them (same keys, same order, same defaults).
 */
export function decodeListImagesResponse(buf: Uint8Array): Image[] {
  return wireFields(buf)
    .filter((f) => f.field === 1)
    .map((f) => imageIn(wireBytes(f)));
}

/** decodeReadContentResponse decodes ReadContentResponse{offset = 1, data = 2}. */
export function decodeReadContentResponse(buf: Uint8Array): { offset: number; data: Uint8Array } {
  let offset = 0;
  let data: Uint8Array = new Uint8Array(0);
  for (const f of wireFields(buf)) {
    if (f.field === 1) offset = wireNumber(f);
    else if (f.field === 2) data = wireBytes(f);
  }
  return { offset, data };
}

/** decodeUsageResponse decodes UsageResponse{size = 1, inodes = 2}. */
export function decodeUsageResponse(buf: Uint8Array): { size: number; inodes: number } {
  let size = 0;
  let inodes = 0;
  for (const f of wireFields(buf)) {
    if (f.field === 1) size = wireNumber(f);
    else if (f.field === 2) inodes = wireNumber(f);
  }
  return { size, inodes };
}
