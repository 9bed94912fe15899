import { unpackAny } from '@ctrd/api';
import type { EventPayload } from '@ctrd/events';

/** String maps whose keys belong to the user and must not be renamed. */
const MAP_FIELDS = new Set(['labels', 'annotations']);

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function protoNames(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    out[snake(k)] = isPlain(v) && !MAP_FIELDS.has(k) ? protoNames(v) : v;
  }
  return out;
}

/**
 * decodeEvent decodes an event's `Any` with the generated codecs and renames its fields to their
 * protobuf names, so `event.container_id==x` filters as it does against containerd. A type it
 * does not know decodes to undefined (its `event.*` fields are then absent).
 */
export function decodeEvent(event: EventPayload): Record<string, unknown> | undefined {
  let msg: unknown;
  try {
    msg = unpackAny({ typeUrl: event.typeUrl, value: Buffer.from(event.value) });
  } catch {
    return undefined;
  }
  return isPlain(msg) ? protoNames(msg) : undefined;
}
