import type { Adaptor } from '@ctrd/filters';
import type { Envelope, EventDecoder } from './envelope.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function present(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * Finds a string field in a decoded event. A nested object is either a message (walk into it) or a
 * string map such as `labels` whose keys may contain dots (join the rest of the path), so both are
 * tried. As in containerd, only string fields can be filtered on and an empty string is absent.
 */
function lookup(obj: Record<string, unknown>, path: readonly string[]): string | undefined {
  if (path.length === 0) return undefined;
  const v = own(obj, path[0]!);
  if (path.length === 1) return present(v);
  if (!isRecord(v)) return undefined;
  const rest = path.slice(1);
  return lookup(v, rest) ?? present(own(v, rest.join('.')));
}

/**
 * envelopeAdaptor exposes an envelope to filters: `namespace`, `topic`, and `event.<field…>`
 * read from the event decoded by `decodeEvent`. The event is decoded at most once, on first use;
 * without a decoder, or when decoding fails, no `event.*` field is present.
 */
export function envelopeAdaptor(envelope: Envelope, decodeEvent?: EventDecoder): Adaptor {
  let decoded: Record<string, unknown> | undefined | null = null;
  const event = (): Record<string, unknown> | undefined => {
    if (decoded === null) {
      try {
        const d = decodeEvent?.(envelope.event);
        decoded = isRecord(d) ? d : undefined;
      } catch {
        decoded = undefined;
      }
    }
    return decoded;
  };
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case 'namespace':
        return fieldpath.length === 1 ? present(envelope.namespace) : undefined;
      case 'topic':
        return fieldpath.length === 1 ? present(envelope.topic) : undefined;
      case 'event': {
        const obj = fieldpath.length > 1 ? event() : undefined;
        return obj === undefined ? undefined : lookup(obj, fieldpath.slice(1));
      }
      default:
        return undefined;
    }
  };
}
