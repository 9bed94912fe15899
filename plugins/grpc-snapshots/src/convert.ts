import { fromTimestamp, packAny, toTimestamp, type MessageCodec } from '@ctrd/api';
import type { Mount as WireMount } from '@ctrd/api/gen/containerd/types/mount.js';
import type { Descriptor as WireDescriptor } from '@ctrd/api/gen/containerd/types/descriptor.js';
import { Kind as WireKind, type Info as WireInfo } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import type { Descriptor } from '@ctrd/diff';
import type { Publisher } from '@ctrd/events';
import type { Mount } from '@ctrd/mount';
import { Kind, type Info } from '@ctrd/snapshots';

/** mountOut converts a mount to the wire. */
export function mountOut(m: Mount): WireMount {
  return { type: m.type, source: m.source, target: m.target ?? '', options: [...m.options] };
}

/** mountIn converts a wire mount; an empty target is left out. */
export function mountIn(m: WireMount): Mount {
  const out: Mount = { type: m.type, source: m.source, options: [...m.options] };
  if (m.target) out.target = m.target;
  return out;
}

/** kindOut converts a snapshot kind to the wire enum (the numbers are the same). */
export function kindOut(k: Kind): WireKind {
  return k as number as WireKind;
}

/** kindIn converts the wire enum to a snapshot kind; anything unknown is `Kind.Unknown`. */
export function kindIn(k: WireKind): Kind {
  return k === WireKind.VIEW || k === WireKind.ACTIVE || k === WireKind.COMMITTED ? (k as number as Kind) : Kind.Unknown;
}

/** snapshotInfoOut converts a snapshot's Info to the wire (no parent is `''`). */
export function snapshotInfoOut(i: Info): WireInfo {
  return {
    name: i.name,
    parent: i.parent ?? '',
    kind: kindOut(i.kind),
    createdAt: toTimestamp(i.createdAt),
    updatedAt: toTimestamp(i.updatedAt),
    labels: { ...i.labels },
  };
}

/** snapshotInfoIn converts a wire Info (an empty parent is none). */
export function snapshotInfoIn(w: WireInfo): Info {
  const i: Info = {
    kind: kindIn(w.kind),
    name: w.name,
    labels: { ...w.labels },
    createdAt: fromTimestamp(w.createdAt) ?? new Date(0),
    updatedAt: fromTimestamp(w.updatedAt) ?? new Date(0),
  };
  if (w.parent) i.parent = w.parent;
  return i;
}

/** descriptorOut converts a layer descriptor to the wire. */
export function descriptorOut(d: Descriptor): WireDescriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { ...d.annotations } };
}

/** descriptorIn converts a wire descriptor; an absent one is empty. */
export function descriptorIn(d: WireDescriptor | undefined): Descriptor {
  const out: Descriptor = { mediaType: d?.mediaType ?? '', digest: d?.digest ?? '', size: d?.size ?? 0 };
  if (d && Object.keys(d.annotations).length > 0) out.annotations = { ...d.annotations };
  return out;
}

/**
 * publishEvent packs `message` as an Any named `typeUrl` and publishes it after the change has
 * committed; a refused publish (the exchange closing) does not undo the change, so it is dropped.
 */
export async function publishEvent<T>(publisher: Publisher, namespace: string, topic: string, typeUrl: string, codec: MessageCodec<T>, message: T): Promise<void> {
  const any = packAny(typeUrl, codec, message);
  try {
    await publisher.publish(namespace, topic, { typeUrl: any.typeUrl, value: any.value });
  } catch {
    // The change stands whether or not anyone hears of it.
  }
}
