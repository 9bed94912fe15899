import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** Encoder is the part of a ts-proto codec that serializing needs. */
export interface Encoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

/** Above this many bytes a message's writer is not kept for the next one. */
const KEEP_BYTES = 64 * 1024;

// One writer serves every message encoded in this thread, one at a time (encoding is synchronous).
// A writer of its own per message starts at 128 bytes and copies itself each time it doubles, and
// the generated serializers then copied the result twice more: out of the writer, and into a
// Buffer. Here the buffer grows once to the size of the messages seen, and the bytes are copied
// out once, into memory the returned Buffer owns.
let shared = new BinaryWriter();

/**
 * toBuffer encodes `message` into a Buffer of its own, as a grpc-js serializer returns it. The
 * generated service definitions call it: `scripts/generate.mjs` rewrites ts-proto's serializers
 * to do so.
 */
export function toBuffer<T>(codec: Encoder<T>, message: T): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = codec.encode(message, shared).finish();
  } catch (err) {
    // The writer holds a half-written message; start the next one afresh.
    shared = new BinaryWriter();
    throw err;
  }
  // Do not hold on to the buffer of a large message (a blob's chunk, a big list) for good.
  if (bytes.byteLength > KEEP_BYTES) shared = new BinaryWriter();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
