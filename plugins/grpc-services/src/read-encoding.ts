import { ReadContentResponse } from '@ctrd/api/gen/containerd/services/content/v1/content.js';

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

function putVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[pos++] = n;
  return pos;
}

/**
 * encodeReadResponse encodes a `ReadContentResponse` (offset = 1, data = 2) into one buffer with
 * a single copy of the data. The generated encoder grows its buffer by doubling and copies the
 * bytes three or four times, which dominated the cost of a Read; the output is byte-for-byte the
 * same. A negative or unsafe offset (never sent by the handler) goes through the generated encoder.
 */
export function encodeReadResponse(msg: ReadContentResponse): Buffer {
  const { offset, data } = msg;
  if (!Number.isSafeInteger(offset) || offset < 0) return Buffer.from(ReadContentResponse.encode(msg).finish());
  const head = (offset !== 0 ? 1 + varintLength(offset) : 0) + (data.length !== 0 ? 1 + varintLength(data.length) : 0);
  const out = Buffer.allocUnsafe(head + data.length);
  let pos = 0;
  if (offset !== 0) {
    out[pos++] = 0x08;
    pos = putVarint(out, pos, offset);
  }
  if (data.length !== 0) {
    out[pos++] = 0x12;
    pos = putVarint(out, pos, data.length);
    out.set(data, pos);
  }
  return out;
}

