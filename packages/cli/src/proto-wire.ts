/** WireValue is one field as it appears on the wire: a number for varint and fixed types, bytes for length-delimited ones. */
export type WireValue = number | Uint8Array;

/** WireField is one decoded field of a protobuf message, in wire order. */
export interface WireField {
  field: number;
  value: WireValue;
}

const TWO_32 = 2 ** 32;

/**
 * readVarint reads a varint at `pos.at`, advancing it. Values are read as int64: a 10-byte
 * varint is a negative number (Go's zero time is one), decoded exactly through BigInt.
 */
export function readVarint(buf: Uint8Array, pos: { at: number }): number {
  let result = 0;
  const start = pos.at;
  for (let shift = 0; ; shift += 7) {
    if (shift > 63) throw new Error('varint too long');
    if (pos.at >= buf.length) throw new Error('truncated varint');
    const b = buf[pos.at++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (result <= Number.MAX_SAFE_INTEGER) return result;
  let big = 0n;
  for (let i = pos.at - 1; i >= start; i--) big = (big << 7n) | BigInt(buf[i]! & 0x7f);
  return Number(BigInt.asIntN(64, big));
}

/** wireFields decodes the fields of a protobuf message; groups (wire types 3, 4) are refused. */
export function wireFields(buf: Uint8Array): WireField[] {
  const out: WireField[] = [];
  const pos = { at: 0 };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  while (pos.at < buf.length) {
    const tag = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    if (field < 1) throw new Error(`invalid field number ${field}`);
    let value: WireValue;
    switch (tag & 7) {
      case 0:
        value = readVarint(buf, pos);
        break;
      case 1:
        if (pos.at + 8 > buf.length) throw new Error('truncated fixed64');
        value = view.getUint32(pos.at, true) + view.getUint32(pos.at + 4, true) * TWO_32;
        pos.at += 8;
        break;
      case 2: {
        const len = readVarint(buf, pos);
        if (len < 0 || pos.at + len > buf.length) throw new Error('truncated field');
        value = buf.subarray(pos.at, pos.at + len);
        pos.at += len;
        break;
      }
      case 5:
        if (pos.at + 4 > buf.length) throw new Error('truncated fixed32');
        value = view.getUint32(pos.at, true);
        pos.at += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
    out.push({ field, value });
  }
  return out;
}

/** wireBytes is a length-delimited value, or an error when the field came with another wire type. */
export function wireBytes(f: WireField): Uint8Array {
  if (typeof f.value === 'number') throw new Error(`field ${f.field}: expected a length-delimited value`);
  return f.value;
}

/** wireString is a length-delimited value as UTF-8. */
export function wireString(f: WireField): string {
  const b = wireBytes(f);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** wireNumber is a varint or fixed value, or an error when the field came length-delimited. */
export function wireNumber(f: WireField): number {
  if (typeof f.value !== 'number') throw new Error(`field ${f.field}: expected a number`);
  return f.value;
}

function varintBytes(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cannot encode ${n} as a varint`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/**
 * encodeFields encodes a message from `[field, value]` pairs in order: strings and bytes
 * length-delimited, non-negative integers as varints. Zero values are the caller's to leave out.
 */
export function encodeFields(fields: ReadonlyArray<readonly [number, string | number | Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [field, value] of fields) {
    if (typeof value === 'number') {
      parts.push(Uint8Array.from([...varintBytes(field * 8), ...varintBytes(value)]));
      continue;
    }
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    parts.push(Uint8Array.from([...varintBytes(field * 8 + 2), ...varintBytes(bytes.length)]), bytes);
  }
  return Buffer.concat(parts);
}
