import { fromTimestamp, packAny, toTimestamp, type Any, type MessageCodec, type Timestamp } from '@ctrd/api';
import type { EventPayload, Publisher } from '@ctrd/events';

/** ts converts a Date to a protobuf Timestamp. */
export function ts(d: Date): Timestamp {
  return toTimestamp(d);
}

/** date converts a protobuf Timestamp to a Date (the epoch when unset). */
export function date(t: Timestamp | undefined): Date {
  return fromTimestamp(t) ?? new Date(0);
}

/** anyOut converts a stored Any to the wire's (bytes as a Buffer). */
export function anyOut(a: { typeUrl: string; value: Uint8Array }): Any {
  return { typeUrl: a.typeUrl, value: Buffer.from(a.value.buffer, a.value.byteOffset, a.value.byteLength) };
}

/** anyIn converts a wire Any to the stored shape; undefined stays undefined. */
export function anyIn(a: Any | undefined): { typeUrl: string; value: Uint8Array } | undefined {
  return a ? { typeUrl: a.typeUrl, value: new Uint8Array(a.value) } : undefined;
}

/** mask returns a request's update mask, treating an absent one as empty. */
export function mask(paths: string[] | undefined): string[] {
  return paths ?? [];
}

/**
 * publishEvent packs `message` as an Any named `typeUrl` and publishes it. Services publish after
 * the change has committed; a failure to publish does not undo the change, so it is not thrown.
 */
export async function publishEvent<T>(
  publisher: Publisher,
  namespace: string,
  topic: string,
  typeUrl: string,
  codec: MessageCodec<T>,
  message: T,
): Promise<void> {
  const any = packAny(typeUrl, codec, message);
  const payload: EventPayload = { typeUrl: any.typeUrl, value: any.value };
  try {
    await publisher.publish(namespace, topic, payload);
  } catch {
    // The exchange only refuses when closing; the change itself stands.
  }
}
