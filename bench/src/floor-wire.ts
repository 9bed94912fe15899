// The few protobuf messages the floor server speaks, encoded by hand so that it loads nothing
// but grpc-js: containerd.services.content.v1 InfoResponse, ReadContentRequest,
// ReadContentResponse, WriteContentRequest and WriteContentResponse.

function varint(n: number): number[] {
  // Every field the floor server writes is a size, an offset or a time: negative values would
  // need the ten-byte two's complement form, which nothing here sends.
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint: want a non-negative safe integer, got ${n}`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function tag(field: number, wireType: number): number[] {
  return varint(field * 8 + wireType);
}

function bytesField(field: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...tag(field, 2), ...varint(value.length)]), value]);
}

/** encodeInfoResponse encodes InfoResponse{info: Info{digest (1), size (2)}}. */
export function encodeInfoResponse(digest: string, size: number): Buffer {
  const info = Buffer.concat([bytesField(1, Buffer.from(digest)), Buffer.from([...tag(2, 0), ...varint(size)])]);
  return bytesField(1, info);
}

/** encodeReadResponse encodes ReadContentResponse{offset (1), data (2)}. */
export function encodeReadResponse(offset: number, data: Buffer): Buffer {
  const head = Buffer.from([...tag(1, 0), ...varint(offset), ...tag(2, 2), ...varint(data.length)]);
  return Buffer.concat([head, data], head.length + data.length);
}

/** Reader walks the fields of one protobuf message. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  #byte(): number {
    if (this.pos >= this.buf.length) throw new Error('truncated varint');
    return this.buf[this.pos++]!;
  }

  /** varint reads an unsigned varint of at most 53 bits (keys, lengths, offsets). */
  varint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = this.#byte();
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
  }

  /**
   * int64 reads a varint as a signed 64-bit integer in two 32-bit halves, so that a negative value
   * (ten bytes, two's complement) comes out exact while it is a safe integer.
   */
  int64(): number {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift >= 70) throw new Error('varint too long');
      const b = this.#byte();
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (b < 0x80) break;
    }
    return (hi | 0) * 0x1_0000_0000 + (lo >>> 0);
  }

  /** bytes returns a length-delimited field as a view of the message buffer (no copy). */
  bytes(): Buffer {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.bytes();
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.buf.length) throw new Error('truncated field');
  }
}

/** decodeReadRequest reads `offset` (2) and `size` (3) of a ReadContentRequest, skipping the rest. */
export function decodeReadRequest(buf: Buffer): { offset: number; size: number } {
  const r = new Reader(buf);
  const out = { offset: 0, size: 0 };
  while (!r.done) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0 && field === 2) out.offset = r.int64();
    else if (wire === 0 && field === 3) out.size = r.int64();
    else r.skip(wire);
  }
  return out;
}

/** WriteAction is containerd's content WriteAction: STAT 0, WRITE 1, COMMIT 2. */
export const WriteAction = { STAT: 0, WRITE: 1, COMMIT: 2 } as const;

/** WriteRequest is a decoded WriteContentRequest. */
export interface WriteRequest {
  action: number;
  ref: string;
  total: number;
  expected: string;
  offset: number;
  /** a view of the message buffer, not a copy. */
  data: Buffer;
  labels: Record<string, string>;
}

function decodeLabel(buf: Buffer): [string, string] {
  const r = new Reader(buf);
  let key = '';
  let value = '';
  while (!r.done) {
    const k = r.varint();
    if (k === (1 << 3) + 2) key = r.bytes().toString('utf8');
    else if (k === (2 << 3) + 2) value = r.bytes().toString('utf8');
    else r.skip(k % 8);
  }
  return [key, value];
}

const NO_DATA = Buffer.alloc(0);

/**
 * decodeWriteRequest decodes a WriteContentRequest: action (1), ref (2), total (3), expected (4),
 * offset (5), data (6) and labels (7), skipping unknown fields. `data` stays a view of `buf`.
 */
export function decodeWriteRequest(buf: Buffer): WriteRequest {
  const r = new Reader(buf);
  const out: WriteRequest = { action: 0, ref: '', total: 0, expected: '', offset: 0, data: NO_DATA, labels: {} };
  while (!r.done) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0 && field === 1) out.action = r.int64() | 0;
    else if (wire === 0 && field === 3) out.total = r.int64();
    else if (wire === 0 && field === 5) out.offset = r.int64();
    else if (wire === 2 && field === 2) out.ref = r.bytes().toString('utf8');
    else if (wire === 2 && field === 4) out.expected = r.bytes().toString('utf8');
    else if (wire === 2 && field === 6) out.data = r.bytes();
    else if (wire === 2 && field === 7) {
      const [k, v] = decodeLabel(r.bytes());
      out.labels[k] = v;
    } else r.skip(wire);
  }
  return out;
}

/** WriteResponse is what {@link encodeWriteResponse} encodes; times are in milliseconds since the epoch. */
export interface WriteResponse {
  action: number;
  startedAt?: number;
  updatedAt?: number;
  offset: number;
  total: number;
  digest: string;
}

function timestampField(field: number, ms: number): Buffer {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  const body: number[] = [];
  if (seconds !== 0) body.push(...tag(1, 0), ...varint(seconds));
  if (nanos !== 0) body.push(...tag(2, 0), ...varint(nanos));
  return bytesField(field, Buffer.from(body));
}

/**
 * encodeWriteResponse encodes WriteContentResponse{action (1), started_at (2), updated_at (3),
 * offset (4), total (5), digest (6)}, leaving out zero scalars and absent times as proto3 does.
 */
export function encodeWriteResponse(m: WriteResponse): Buffer {
  const parts: Buffer[] = [];
  const scalars: number[] = [];
  if (m.action !== 0) scalars.push(...tag(1, 0), ...varint(m.action));
  parts.push(Buffer.from(scalars));
  if (m.startedAt !== undefined) parts.push(timestampField(2, m.startedAt));
  if (m.updatedAt !== undefined) parts.push(timestampField(3, m.updatedAt));
  const tail: number[] = [];
  if (m.offset !== 0) tail.push(...tag(4, 0), ...varint(m.offset));
  if (m.total !== 0) tail.push(...tag(5, 0), ...varint(m.total));
  parts.push(Buffer.from(tail));
  if (m.digest !== '') parts.push(bytesField(6, Buffer.from(m.digest)));
  return Buffer.concat(parts);
}
