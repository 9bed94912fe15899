import { CONTINUATION, DATA, END_HEADERS, END_STREAM, HEADERS, PADDED, PREFACE, PRIORITY } from '@ctrd/grpc/h2-frames';
import { HpackDecoder } from '@ctrd/grpc/hpack';

/** WatchedCall is one call seen on a connection: its method, when its request ended, how long its answer took. */
export interface WatchedCall {
  path: string;
  /** performance.now() when the request's last frame passed. */
  at: number;
  /** ms from the request's end until the answer's last frame passed. */
  ms: number;
}

interface Open {
  path: string;
  /** when the request's headers passed. */
  started: number;
  /** when the request ended; undefined while the client still sends. */
  ended?: number;
}

/**
 * FrameSplitter cuts a byte stream into HTTP/2 frames (after the client preface when `preface`),
 * whatever the chunks it arrives in.
 */
class FrameSplitter {
  #buf: Buffer = Buffer.alloc(0);
  #preface: boolean;

  constructor(preface: boolean) {
    this.#preface = preface;
  }

  *push(chunk: Buffer): Generator<{ type: number; flags: number; stream: number; payload: Buffer }> {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#preface) {
      if (this.#buf.length < PREFACE.length) return;
      this.#buf = this.#buf.subarray(PREFACE.length);
      this.#preface = false;
    }
    while (this.#buf.length >= 9) {
      const length = this.#buf.readUIntBE(0, 3);
      if (this.#buf.length < 9 + length) return;
      const frame = { type: this.#buf[3]!, flags: this.#buf[4]!, stream: this.#buf.readUInt32BE(5) & 0x7fffffff, payload: this.#buf.subarray(9, 9 + length) };
      this.#buf = this.#buf.subarray(9 + length);
      yield frame;
    }
  }
}

/**
 * CallWatch follows the two directions of one gRPC connection and reports each call: the method
 * from the request's header block (decoded with the connection's HPACK state), the time from the
 * request's end to the end of the answer (trailers, or a DATA frame ending the stream). Bytes are
 * only read: a proxy hands each chunk on unchanged and shows it here.
 */
export class CallWatch {
  readonly #requests = new FrameSplitter(true);
  readonly #answers = new FrameSplitter(false);
  readonly #hpack = new HpackDecoder();
  readonly #open = new Map<number, Open>();
  #block: { stream: number; parts: Buffer[]; ends: boolean } | undefined;

  constructor(
    private readonly onCall: (call: WatchedCall) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** fromClient shows a chunk the client sent. */
  fromClient(chunk: Buffer): void {
    for (const f of this.#requests.push(chunk)) {
      if (f.type === HEADERS) {
        let p = f.payload;
        if (f.flags & PADDED) p = p.subarray(1, p.length - p[0]!);
        if (f.flags & PRIORITY) p = p.subarray(5);
        this.#block = { stream: f.stream, parts: [p], ends: (f.flags & END_STREAM) !== 0 };
      } else if (f.type === CONTINUATION && this.#block !== undefined) {
        this.#block.parts.push(f.payload);
      } else if (f.type === DATA && f.flags & END_STREAM) {
        const o = this.#open.get(f.stream);
        if (o !== undefined) o.ended = this.now();
        continue;
      } else {
        continue;
      }
      if (f.flags & END_HEADERS) this.#headers();
    }
  }

  /** fromServer shows a chunk the server sent. */
  fromServer(chunk: Buffer): void {
    for (const f of this.#answers.push(chunk)) {
      if ((f.type !== HEADERS && f.type !== DATA) || !(f.flags & END_STREAM)) continue;
      const o = this.#open.get(f.stream);
      if (o === undefined) continue;
      this.#open.delete(f.stream);
      const now = this.now();
      // An answer that ends before the request did (an error on a client stream) counts from the request's headers.
      const at = o.ended ?? o.started;
      this.onCall({ path: o.path, at, ms: now - at });
    }
  }

  #headers(): void {
    const b = this.#block!;
    this.#block = undefined;
    const path = this.#hpack.decode(Buffer.concat(b.parts)).find(([k]) => k === ':path')?.[1] ?? '?';
    const started = this.now();
    this.#open.set(b.stream, b.ends ? { path, started, ended: started } : { path, started });
  }
}
