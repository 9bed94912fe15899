/**
 * ttrpc framing: every message travels as a 10-byte big-endian header followed by its payload.
 *
 * ```
 * 0        4          8      9       10
 * | length | streamId | type | flags | payload (length bytes) …
 * ```
 */

/** FRAME_HEADER_LENGTH is the size in bytes of the fixed header in front of every ttrpc message. */
export const FRAME_HEADER_LENGTH = 10;

/** MAX_MESSAGE_LENGTH is the largest payload ttrpc accepts in one frame (4 MiB). */
export const MAX_MESSAGE_LENGTH = 4 << 20;

/** MessageType is the frame type byte: requests go from client to server, responses back. */
export const MessageType = {
  Request: 1,
  Response: 2,
} as const;

/** FrameHeader is the decoded fixed header of one frame. */
export interface FrameHeader {
  /** Payload length in bytes, not counting the header. */
  length: number;
  /** Stream the frame belongs to; client-initiated streams are odd. */
  streamId: number;
  /** Frame type (see {@link MessageType}); unknown types are passed through. */
  type: number;
  /** Flag bits; ttrpc 1.1 sends zero. */
  flags: number;
}

/** FrameSink receives what a {@link FrameReader} parses. */
export interface FrameSink {
  /** frame is called for every complete frame; `payload` may be a view into a received chunk. */
  frame(header: FrameHeader, payload: Uint8Array): void;
  /** oversize is called once per frame longer than the limit; its payload is skipped. */
  oversize(header: FrameHeader): void;
}

/**
 * writeFrameHeader writes a header into the first {@link FRAME_HEADER_LENGTH} bytes of `target`.
 */
export function writeFrameHeader(target: Uint8Array, length: number, streamId: number, type: number, flags = 0): void {
  const view = new DataView(target.buffer, target.byteOffset, FRAME_HEADER_LENGTH);
  view.setUint32(0, length);
  view.setUint32(4, streamId);
  view.setUint8(8, type);
  view.setUint8(9, flags);
}

/** encodeFrame returns one buffer holding a header and `payload` (copies the payload; for tests and small frames). */
export function encodeFrame(streamId: number, type: number, payload: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + payload.length);
  writeFrameHeader(out, payload.length, streamId, type, flags);
  out.set(payload, FRAME_HEADER_LENGTH);
  return out;
}

/**
 * FrameReader splits a byte stream into frames.
 *
 * Chunks are queued, not concatenated: a frame that lies inside one chunk is handed out as a view
 * of it, and a frame spread over several chunks is assembled with exactly one copy once all of its
 * bytes are there, so reading a large frame in many small chunks stays linear. A frame whose
 * length exceeds `maxLength` is reported to {@link FrameSink.oversize} and its bytes are discarded
 * as they arrive, which keeps the stream in sync as Go's ttrpc does.
 */
export class FrameReader {
  private readonly chunks: Uint8Array[] = [];
  /** Read offset into chunks[0]. */
  private offset = 0;
  private buffered = 0;
  private skipping = 0;
  private readonly headerScratch = new Uint8Array(FRAME_HEADER_LENGTH);

  constructor(
    private readonly sink: FrameSink,
    private readonly maxLength = MAX_MESSAGE_LENGTH,
  ) {}

  /** bufferedBytes is the number of received bytes not yet handed out as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** push feeds the next chunk of the stream and delivers every frame it completes. */
  push(chunk: Uint8Array): void {
    if (this.skipping > 0) {
      const n = Math.min(this.skipping, chunk.length);
      this.skipping -= n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;

    while (this.buffered >= FRAME_HEADER_LENGTH) {
      const header = this.peekHeader();
      if (header.length > this.maxLength) {
        this.consume(FRAME_HEADER_LENGTH);
        const n = Math.min(header.length, this.buffered);
        this.consume(n);
        this.skipping = header.length - n;
        this.sink.oversize(header);
        if (this.skipping > 0) return;
        continue;
      }
      if (this.buffered < FRAME_HEADER_LENGTH + header.length) return;
      this.consume(FRAME_HEADER_LENGTH);
      this.sink.frame(header, this.take(header.length));
    }
  }

  private peekHeader(): FrameHeader {
    const first = this.chunks[0]!;
    let bytes: Uint8Array;
    if (first.length - this.offset >= FRAME_HEADER_LENGTH) {
      bytes = first.subarray(this.offset, this.offset + FRAME_HEADER_LENGTH);
    } else {
      bytes = this.headerScratch;
      this.copyOut(bytes, FRAME_HEADER_LENGTH);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_LENGTH);
    return { length: view.getUint32(0), streamId: view.getUint32(4), type: view.getUint8(8), flags: view.getUint8(9) };
  }

  /** copyOut copies the next `n` buffered bytes into `target` without consuming them. */
  private copyOut(target: Uint8Array, n: number): void {
    let written = 0;
    let offset = this.offset;
    for (let i = 0; written < n; i++) {
      const c = this.chunks[i]!;
      const part = Math.min(c.length - offset, n - written);
      target.set(c.subarray(offset, offset + part), written);
      written += part;
      offset = 0;
    }
  }

  /** take consumes `n` bytes, as a view when they lie in one chunk and as one fresh copy otherwise. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first !== undefined && first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.consume(n);
      return out;
    }
    const out = new Uint8Array(n);
    this.copyOut(out, n);
    this.consume(n);
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const left = c.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.offset = 0;
    }
  }
}
