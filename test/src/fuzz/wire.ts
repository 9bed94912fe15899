import type { Prng } from './prng.js';

/** WireType is a protobuf wire type; 6 and 7 are invalid and used only to provoke decoders. */
export type WireType = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/**
 * WireWriter builds protobuf bytes field by field with no schema checks, so it can write
 * anything a decoder might meet: any number, any wire type, any length prefix.
 */
export class WireWriter {
  readonly #chunks: Buffer[] = [];

  /** varint appends an unsigned varint; negative numbers become their 64-bit two's complement. */
  varint(v: bigint | number): this {
    let n = BigInt.asUintN(64, BigInt(v));
    const bytes: number[] = [];
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n) b |= 0x80;
      bytes.push(b);
    } while (n);
    this.#chunks.push(Buffer.from(bytes));
    return this;
  }

  /** tag appends a field key. */
  tag(field: number, wt: WireType): this {
    return this.varint((BigInt(field) << 3n) | BigInt(wt));
  }

  /** raw appends bytes as they are. */
  raw(b: Uint8Array): this {
    this.#chunks.push(Buffer.from(b));
    return this;
  }

  /** bytes appends a length-delimited field. */
  bytes(field: number, b: Uint8Array): this {
    return this.tag(field, 2).varint(b.length).raw(b);
  }

  /** fixed32 appends a 32-bit little-endian field. */
  fixed32(field: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.tag(field, 5).raw(b);
  }

  /** fixed64 appends a 64-bit little-endian field. */
  fixed64(field: number, v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    return this.tag(field, 1).raw(b);
  }

  /** finish returns the bytes written so far. */
  finish(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

/** MUTATIONS names the ways {@link mutate} can damage an encoded message. */
export const MUTATIONS = [
  'truncate',
  'flip',
  'append-garbage',
  'random',
  'long-length',
  'wrong-wire-type',
  'invalid-wire-type',
  'overlong-varint',
  'zero-field',
  'empty',
] as const;

/** Mutation is one entry of {@link MUTATIONS}. */
export type Mutation = (typeof MUTATIONS)[number];

/**
 * mutate damages a well-formed message in one of the {@link MUTATIONS} ways; `fields` are the
 * message's declared field numbers, so a wrong wire type hits a field the decoder knows.
 */
export function mutate(msg: Buffer, fields: readonly number[], rng: Prng): { bytes: Buffer; mutation: Mutation } {
  const mutation = rng.pick(MUTATIONS);
  const field = fields.length ? rng.pick(fields) : rng.range(1, 20);
  let bytes: Buffer;
  switch (mutation) {
    case 'truncate':
      bytes = msg.subarray(0, msg.length ? rng.int(msg.length) : 0);
      if (bytes.length === msg.length) bytes = Buffer.from([0x0a, 0x05, 0x61]);
      break;
    case 'flip': {
      bytes = Buffer.from(msg.length ? msg : Buffer.from([0x0a, 0x00]));
      for (let i = rng.range(1, 4); i > 0; i--) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
      break;
    }
    case 'append-garbage':
      bytes = Buffer.concat([msg, rng.bytes(rng.range(1, 32))]);
      break;
    case 'random':
      bytes = rng.bytes(rng.range(1, 256));
      break;
    case 'long-length':
      bytes = Buffer.concat([msg, new WireWriter().tag(field, 2).varint(rng.pick([1n << 20n, 0xffffffffn, (1n << 63n) - 1n, 100n])).raw(Buffer.from('ab')).finish()]);
      break;
    case 'wrong-wire-type': {
      const w = new WireWriter();
      const wt = rng.pick<WireType>([0, 1, 2, 5]);
      w.tag(field, wt);
      if (wt === 0) w.varint(rng.pick([0n, 1n, -1n, 1n << 62n]));
      else if (wt === 1) w.raw(rng.bytes(8));
      else if (wt === 5) w.raw(rng.bytes(4));
      else w.varint(3).raw(rng.bytes(3));
      bytes = rng.chance(0.5) ? Buffer.concat([w.finish(), msg]) : Buffer.concat([msg, w.finish()]);
      break;
    }
    case 'invalid-wire-type':
      bytes = Buffer.concat([msg, new WireWriter().tag(field, rng.pick<WireType>([3, 4, 6, 7])).raw(rng.bytes(rng.range(0, 8))).finish()]);
      break;
    case 'overlong-varint':
      bytes = Buffer.concat([msg, new WireWriter().tag(field, 0).finish(), Buffer.alloc(rng.range(10, 12), 0xff)]);
      break;
    case 'zero-field':
      bytes = Buffer.concat([new WireWriter().tag(0, rng.pick<WireType>([0, 2])).varint(1).raw(Buffer.from('x')).finish(), msg]);
      break;
    case 'empty':
      bytes = Buffer.alloc(0);
      break;
  }
  return { bytes, mutation };
}
