import type { Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http2';
import { HpackDecoder, HpackError } from './hpack.js';
import {
  ACK,
  COMPRESSION_ERROR,
  CONTINUATION,
  DATA,
  DEFAULT_WINDOW,
  END_HEADERS,
  END_STREAM,
  FLOW_CONTROL_ERROR,
  FRAME_SIZE_ERROR,
  frameHeader,
  GOAWAY,
  HEADERS,
  INTERNAL_ERROR,
  MAX_WINDOW,
  NO_ERROR,
  PADDED,
  PING,
  PREFACE,
  PRIORITY,
  PROTOCOL_ERROR,
  PUSH_PROMISE,
  REFUSED_STREAM,
  RST_STREAM,
  SETTINGS,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_FRAME_SIZE,
  STREAM_CLOSED,
  WINDOW_UPDATE,
} from './h2-frames.js';

/*
 * The server side of an HTTP/2 connection (RFC 9113) with prior knowledge, as a gRPC server on a
 * unix socket needs it: the preface, settings, header blocks (continuations, padding, priority
 * ignored), data with flow control both ways, pings, resets and goaway. No push, no upgrade, no
 * TLS. Every response header block is written as literals (see `encodeHeaders`), so the peer's
 * header table size does not matter.
 */

/** the largest frame this side accepts: the protocol's default, which it does not raise. */
const MAX_FRAME = 16_384;
/** the most a header block may take, its continuations included. */
const MAX_HEADER_BLOCK = 256 << 10;
/** below this many bytes the frames of one turn are joined into one buffer before the write. */
const JOIN_BELOW = 16 << 10;

/** H2Options are the receive windows a connection offers. */
export interface H2Options {
  /** each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE). */
  streamWindow: number;
  /** the connection's receive window. */
  connectionWindow: number;
}

/** H2Error is a connection error: the connection is ended with GOAWAY and this code. */
class H2Error extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** u32 is a frame whose payload is one 32-bit value: WINDOW_UPDATE or RST_STREAM. */
function u32(type: number, stream: number, value: number): Buffer {
  const f = Buffer.allocUnsafe(13);
  f[0] = 0;
  f[1] = 0;
  f[2] = 4;
  f[3] = type;
  f[4] = 0;
  f.writeUInt32BE(stream, 5);
  f.writeUInt32BE(value, 9);
  return f;
}

/**
 * H2Stream is one request stream: the client's headers and data in, the answer's headers, data
 * and trailers out. Data waits in the stream while the peer's windows are closed; trailers go
 * after it. The callbacks are set by whoever serves the stream, at once when it is opened.
 */
export class H2Stream {
  readonly id: number;
  readonly #conn: H2Connection;
  /** the client may still send (no END_STREAM, no reset). */
  remoteOpen = true;
  /** this side has not ended the stream yet. */
  localOpen = true;
  /** ended both ways or reset: nothing more is sent or delivered. */
  closed = false;
  /** what this side may still send before the peer opens the window. */
  sendWindow: number;
  /** what the peer may still send before this side opens the window. */
  recvWindow: number;
  /** bytes taken by the reader and not yet given back to the peer's window. */
  #taken = 0;
  /** data waiting for the peer's windows, and the trailers block that ends the stream after it. */
  readonly queue: Buffer[] = [];
  queued = 0;
  trailers: Buffer | undefined = undefined;
  /** a request's data; `end` when the client ended its side, `close` once the stream is closed either way. */
  ondata: ((chunk: Buffer) => void) | undefined = undefined;
  onend: (() => void) | undefined = undefined;
  onclose: (() => void) | undefined = undefined;
  /** resolves waiting writers once the queue and the socket drained (see `drained`). */
  waiters: Array<() => void> | undefined = undefined;

  constructor(conn: H2Connection, id: number, sendWindow: number, recvWindow: number) {
    this.#conn = conn;
    this.id = id;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** headers sends a header block; `end` ends the stream with it (a trailers-only response). */
  headers(block: Buffer, end: boolean): void {
    if (!this.localOpen) return;
    this.#conn.headerBlock(this, block, end);
  }

  /** data sends the buffers as DATA, now or as the peer's windows open. */
  data(bufs: readonly Buffer[]): void {
    if (!this.localOpen) return;
    for (const b of bufs) {
      if (b.length === 0) continue;
      this.queue.push(b);
      this.queued += b.length;
    }
    this.#conn.flushStream(this);
  }

  /** end ends the stream with a trailers block, after the data still waiting. */
  end(trailers: Buffer): void {
    if (!this.localOpen || this.trailers !== undefined) return;
    this.trailers = trailers;
    this.#conn.flushStream(this);
  }

  /** reset ends the stream at once with RST_STREAM. */
  reset(code: number): void {
    this.#conn.resetStream(this, code);
  }

  /** taken gives `n` bytes of the request back to the peer's window: the reader has them. */
  taken(n: number): void {
    if (!this.remoteOpen || n <= 0) return;
    this.#taken += n;
    if (this.#taken >= this.#conn.streamWindow >>> 1) {
      this.recvWindow += this.#taken;
      this.#conn.emit(u32(WINDOW_UPDATE, this.id, this.#taken));
      this.#taken = 0;
    }
  }

  /** backlog is what waits to be written: in the stream for the peer's windows, and in the socket. */
  get backlog(): number {
    return this.queued + this.#conn.socketBacklog;
  }

  /**
   * drained resolves once the stream's queue is empty and the socket takes more without waiting
   * for its 'drain', or the stream closed.
   */
  drained(): Promise<void> {
    if (this.closed || (this.queued === 0 && !this.#conn.socket.writableNeedDrain)) return Promise.resolve();
    return new Promise((resolve) => {
      (this.waiters ??= []).push(resolve);
      this.#conn.watchDrain(this);
    });
  }

  /** wake resolves the waiting writers. */
  wake(): void {
    const w = this.waiters;
    if (w === undefined) return;
    this.waiters = undefined;
    for (const resolve of w) resolve();
  }
}

/**
 * H2Connection serves one client connection. `onStream` is called for each new stream with its
 * request headers as node:http2 presents them (names in lower case, repeated values joined with
 * `, `).
 */
export class H2Connection {
  readonly socket: Socket;
  readonly streamWindow: number;
  readonly #onStream: (stream: H2Stream, headers: IncomingHttpHeaders) => void;
  readonly #onClose: () => void;
  readonly #decoder = new HpackDecoder();
  readonly #streams = new Map<number, H2Stream>();
  #preface = false;
  #input: Buffer | undefined = undefined;
  /** a header block still in continuations: its stream, flags and fragments. */
  #block: { stream: number; flags: number; parts: Buffer[]; size: number } | undefined = undefined;
  #lastStream = 0;
  #peerWindow = DEFAULT_WINDOW;
  #peerMaxFrame = MAX_FRAME;
  #sendWindow = DEFAULT_WINDOW;
  /** received data not given back to the connection's window yet. */
  #received = 0;
  readonly #connectionWindow: number;
  /** streams with data or trailers waiting for the connection's window. */
  readonly #blocked = new Set<H2Stream>();
  /** streams with writers waiting for the queue and the socket to drain. */
  readonly #draining = new Set<H2Stream>();
  #out: Buffer[] = [];
  #outBytes = 0;
  #flushing = false;
  /** GOAWAY sent: no new stream is taken, and the connection ends once the last one closed. */
  #goingAway = false;
  #closed = false;

  constructor(socket: Socket, opts: H2Options, onStream: (stream: H2Stream, headers: IncomingHttpHeaders) => void, onClose: () => void) {
    this.socket = socket;
    this.streamWindow = opts.streamWindow;
    this.#connectionWindow = opts.connectionWindow;
    this.#onStream = onStream;
    this.#onClose = onClose;
    const settings = Buffer.allocUnsafe(6);
    settings.writeUInt16BE(SETTINGS_INITIAL_WINDOW_SIZE, 0);
    settings.writeUInt32BE(opts.streamWindow, 2);
    this.emit(frameHeader(6, SETTINGS, 0, 0));
    this.emit(settings);
    if (opts.connectionWindow > DEFAULT_WINDOW) this.emit(u32(WINDOW_UPDATE, 0, opts.connectionWindow - DEFAULT_WINDOW));
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('drain', () => this.#drain());
    socket.on('error', () => {});
    socket.on('close', () => this.#lost());
  }

  /** the bytes the socket holds that the kernel has not taken yet. */
  get socketBacklog(): number {
    return this.socket.writableLength + this.#outBytes;
  }

  /** goAway stops taking new streams and ends the connection once the open ones are done. */
  goAway(): void {
    if (this.#goingAway || this.#closed) return;
    this.#goingAway = true;
    this.#goAwayFrame(NO_ERROR);
    this.#endIfIdle();
  }

  /** destroy drops the connection at once; its streams close as reset. */
  destroy(): void {
    this.socket.destroy();
    this.#lost();
  }

  /** emit queues bytes for the socket; they go out in one write at the end of this turn. */
  emit(buf: Buffer): void {
    if (this.#closed) return;
    this.#out.push(buf);
    this.#outBytes += buf.length;
    if (!this.#flushing) {
      this.#flushing = true;
      process.nextTick(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushing = false;
    const out = this.#out;
    if (out.length === 0 || this.#closed) return;
    const bytes = this.#outBytes;
    this.#out = [];
    this.#outBytes = 0;
    const socket = this.socket;
    if (out.length === 1) socket.write(out[0]!);
    else if (bytes < JOIN_BELOW) socket.write(Buffer.concat(out, bytes));
    else {
      socket.cork();
      for (const b of out) socket.write(b);
      socket.uncork();
    }
    if (this.#draining.size > 0) this.#drain();
  }

  headerBlock(s: H2Stream, block: Buffer, end: boolean): void {
    const max = this.#peerMaxFrame;
    for (let at = 0, first = true; first || at < block.length; first = false) {
      const part = block.length - at <= max ? (at === 0 ? block : block.subarray(at)) : block.subarray(at, at + max);
      at += part.length;
      const flags = (at >= block.length ? END_HEADERS : 0) | (first && end ? END_STREAM : 0);
      this.emit(frameHeader(part.length, first ? HEADERS : CONTINUATION, flags, s.id));
      this.emit(part);
    }
    if (end) this.#localEnd(s);
  }

  /** flushStream sends as much of a stream's queue as the windows allow, then its trailers once the queue is empty. */
  flushStream(s: H2Stream): void {
    if (s.closed) return;
    const max = this.#peerMaxFrame;
    while (s.queued > 0) {
      const room = Math.min(s.sendWindow, this.#sendWindow, max);
      if (room <= 0) {
        if (this.#sendWindow <= 0) this.#blocked.add(s);
        return;
      }
      const head = s.queue[0]!;
      let part: Buffer;
      if (head.length <= room) {
        s.queue.shift();
        part = head;
      } else {
        part = head.subarray(0, room);
        s.queue[0] = head.subarray(room);
      }
      s.queued -= part.length;
      s.sendWindow -= part.length;
      this.#sendWindow -= part.length;
      this.emit(frameHeader(part.length, DATA, 0, s.id));
      this.emit(part);
    }
    this.#blocked.delete(s);
    if (s.trailers !== undefined) {
      const block = s.trailers;
      s.trailers = undefined;
      this.headerBlock(s, block, true);
    }
  }

  resetStream(s: H2Stream, code: number): void {
    if (s.closed) return;
    this.emit(u32(RST_STREAM, s.id, code));
    this.#close(s);
  }

  watchDrain(s: H2Stream): void {
    this.#draining.add(s);
  }

  /**
   * drain wakes the writers of streams whose queue emptied, unless the socket waits for its
   * 'drain' (which calls this again).
   */
  #drain(): void {
    if (this.socket.writableNeedDrain) return;
    for (const s of this.#draining) {
      if (s.queued === 0 || s.closed) {
        this.#draining.delete(s);
        s.wake();
      }
    }
  }

  /** localEnd marks the stream ended by this side; one the client still sends on is reset with NO_ERROR. */
  #localEnd(s: H2Stream): void {
    s.localOpen = false;
    if (s.remoteOpen) this.emit(u32(RST_STREAM, s.id, NO_ERROR));
    this.#close(s);
  }

  #close(s: H2Stream): void {
    if (s.closed) return;
    s.closed = true;
    s.localOpen = false;
    s.remoteOpen = false;
    s.queue.length = 0;
    s.queued = 0;
    this.#streams.delete(s.id);
    this.#blocked.delete(s);
    this.#draining.delete(s);
    s.wake();
    s.onclose?.();
    if (this.#goingAway) this.#endIfIdle();
  }

  #endIfIdle(): void {
    if (this.#streams.size > 0 || this.#closed) return;
    this.#flush();
    this.socket.end();
  }

  /** lost closes every stream as reset: the socket is gone. */
  #lost(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out = [];
    this.#outBytes = 0;
    for (const s of [...this.#streams.values()]) this.#close(s);
    this.#onClose();
  }

  #goAwayFrame(code: number): void {
    const f = Buffer.allocUnsafe(17);
    frameHeader(8, GOAWAY, 0, 0).copy(f);
    f.writeUInt32BE(this.#lastStream, 9);
    f.writeUInt32BE(code, 13);
    this.emit(f);
  }

  /** fail ends the connection with GOAWAY and the error's code. */
  #fail(err: H2Error): void {
    if (this.#closed) return;
    this.#goAwayFrame(err.code);
    this.#flush();
    this.socket.end();
    this.#lost();
  }

  #receive(chunk: Buffer): void {
    let input = this.#input === undefined ? chunk : Buffer.concat([this.#input, chunk]);
    this.#input = undefined;
    try {
      if (!this.#preface) {
        if (input.length < PREFACE.length) {
          if (!PREFACE.subarray(0, input.length).equals(input)) throw new H2Error(PROTOCOL_ERROR, 'not an HTTP/2 connection preface');
          this.#input = input;
          return;
        }
        if (!PREFACE.equals(input.subarray(0, PREFACE.length))) throw new H2Error(PROTOCOL_ERROR, 'not an HTTP/2 connection preface');
        this.#preface = true;
        input = input.subarray(PREFACE.length);
      }
      let at = 0;
      while (input.length - at >= 9 && !this.#closed) {
        const length = (input[at]! << 16) | (input[at + 1]! << 8) | input[at + 2]!;
        if (length > MAX_FRAME) throw new H2Error(FRAME_SIZE_ERROR, `frame of ${length} bytes`);
        if (input.length - at < 9 + length) break;
        const type = input[at + 3]!;
        const flags = input[at + 4]!;
        const stream = input.readUInt32BE(at + 5) & 0x7fff_ffff;
        const payload = input.subarray(at + 9, at + 9 + length);
        at += 9 + length;
        this.#frame(type, flags, stream, payload);
      }
      if (at < input.length && !this.#closed) this.#input = input.subarray(at);
    } catch (err) {
      this.#fail(err instanceof H2Error ? err : new H2Error(INTERNAL_ERROR, (err as Error).message));
      return;
    }
    if (this.#received >= this.#connectionWindow >>> 2) {
      this.emit(u32(WINDOW_UPDATE, 0, this.#received));
      this.#received = 0;
    }
  }

  #frame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.#block !== undefined && type !== CONTINUATION) throw new H2Error(PROTOCOL_ERROR, 'header block interrupted');
    switch (type) {
      case DATA:
        return this.#data(flags, id, payload);
      case HEADERS: {
        if (id === 0 || id % 2 === 0) throw new H2Error(PROTOCOL_ERROR, `HEADERS on stream ${id}`);
        let fragment = unpad(payload, flags);
        if (flags & PRIORITY) {
          if (fragment.length < 5) throw new H2Error(FRAME_SIZE_ERROR, 'short priority');
          fragment = fragment.subarray(5);
        }
        this.#block = { stream: id, flags, parts: [fragment], size: fragment.length };
        if (flags & END_HEADERS) this.#headers();
        return;
      }
      case CONTINUATION: {
        const b = this.#block;
        if (b === undefined || b.stream !== id) throw new H2Error(PROTOCOL_ERROR, 'unexpected CONTINUATION');
        b.parts.push(payload);
        b.size += payload.length;
        if (b.size > MAX_HEADER_BLOCK) throw new H2Error(PROTOCOL_ERROR, 'header block too large');
        if (flags & END_HEADERS) this.#headers();
        return;
      }
      case RST_STREAM: {
        if (payload.length !== 4) throw new H2Error(FRAME_SIZE_ERROR, 'RST_STREAM length');
        if (id === 0) throw new H2Error(PROTOCOL_ERROR, 'RST_STREAM on stream 0');
        const s = this.#streams.get(id);
        if (s !== undefined) this.#close(s);
        return;
      }
      case SETTINGS:
        return this.#settings(flags, id, payload);
      case PING:
        if (payload.length !== 8) throw new H2Error(FRAME_SIZE_ERROR, 'PING length');
        if (id !== 0) throw new H2Error(PROTOCOL_ERROR, 'PING on a stream');
        if (!(flags & ACK)) {
          this.emit(frameHeader(8, PING, ACK, 0));
          this.emit(Buffer.from(payload));
        }
        return;
      case GOAWAY:
        // The client takes no new stream; those open finish, then it closes the connection.
        return;
      case WINDOW_UPDATE: {
        if (payload.length !== 4) throw new H2Error(FRAME_SIZE_ERROR, 'WINDOW_UPDATE length');
        const inc = payload.readUInt32BE(0) & 0x7fff_ffff;
        if (id === 0) {
          if (inc === 0) throw new H2Error(PROTOCOL_ERROR, 'window increment 0');
          this.#sendWindow += inc;
          if (this.#sendWindow > MAX_WINDOW) throw new H2Error(FLOW_CONTROL_ERROR, 'connection window above 2^31-1');
          for (const s of [...this.#blocked]) this.flushStream(s);
          return;
        }
        const s = this.#streams.get(id);
        if (s === undefined) return;
        if (inc === 0) return this.resetStream(s, PROTOCOL_ERROR);
        s.sendWindow += inc;
        if (s.sendWindow > MAX_WINDOW) return this.resetStream(s, FLOW_CONTROL_ERROR);
        this.flushStream(s);
        return;
      }
      case PUSH_PROMISE:
        throw new H2Error(PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
      default:
        // PRIORITY and frame types this side does not know are ignored.
        return;
    }
  }

  #settings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new H2Error(PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & ACK) {
      if (payload.length !== 0) throw new H2Error(FRAME_SIZE_ERROR, 'SETTINGS acknowledgement with a payload');
      return;
    }
    if (payload.length % 6 !== 0) throw new H2Error(FRAME_SIZE_ERROR, 'SETTINGS length');
    for (let at = 0; at < payload.length; at += 6) {
      const key = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (key === SETTINGS_INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw new H2Error(FLOW_CONTROL_ERROR, 'initial window above 2^31-1');
        const delta = value - this.#peerWindow;
        this.#peerWindow = value;
        for (const s of this.#streams.values()) s.sendWindow += delta;
      } else if (key === SETTINGS_MAX_FRAME_SIZE) {
        if (value < MAX_FRAME || value > 0xff_ffff) throw new H2Error(PROTOCOL_ERROR, `max frame size ${value}`);
        this.#peerMaxFrame = value;
      }
      // The header table size does not matter to an encoder that never indexes; the others
      // (push, concurrent streams, header list size) limit what a server would initiate.
    }
    this.emit(frameHeader(0, SETTINGS, ACK, 0));
    for (const s of [...this.#streams.values()]) if (s.queued > 0) this.flushStream(s);
  }

  #data(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new H2Error(PROTOCOL_ERROR, 'DATA on stream 0');
    // The connection's window counts every DATA frame, whatever became of its stream.
    this.#received += payload.length;
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (id > this.#lastStream) throw new H2Error(PROTOCOL_ERROR, `DATA on idle stream ${id}`);
      return;
    }
    if (!s.remoteOpen) return this.resetStream(s, STREAM_CLOSED);
    s.recvWindow -= payload.length;
    if (s.recvWindow < 0) return this.resetStream(s, FLOW_CONTROL_ERROR);
    const data = unpad(payload, flags);
    // Padding is not the reader's to take.
    s.taken(payload.length - data.length);
    if (data.length > 0) s.ondata?.(data);
    if (flags & END_STREAM) this.#remoteEnd(s);
  }

  #remoteEnd(s: H2Stream): void {
    if (!s.remoteOpen) return;
    s.remoteOpen = false;
    s.onend?.();
    if (!s.localOpen) this.#close(s);
  }

  #headers(): void {
    const { stream: id, flags, parts } = this.#block!;
    this.#block = undefined;
    let fields;
    try {
      fields = this.#decoder.decode(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    } catch (err) {
      if (err instanceof HpackError) throw new H2Error(COMPRESSION_ERROR, err.message);
      throw err;
    }
    const open = this.#streams.get(id);
    if (open !== undefined) {
      // Trailers from the client: gRPC has none, but they end its side.
      if (!(flags & END_STREAM)) return this.resetStream(open, PROTOCOL_ERROR);
      this.#remoteEnd(open);
      return;
    }
    // A stream this side reset may still see the client's frames: they are ignored.
    if (id <= this.#lastStream) return;
    this.#lastStream = id;
    if (this.#goingAway) {
      this.emit(u32(RST_STREAM, id, REFUSED_STREAM));
      return;
    }
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of fields) {
      const had = headers[name];
      if (had === undefined) headers[name] = value;
      else headers[name] = `${had as string}${name === 'cookie' ? '; ' : ', '}${value}`;
    }
    const s = new H2Stream(this, id, this.#peerWindow, this.streamWindow);
    this.#streams.set(id, s);
    this.#onStream(s, headers);
    if (flags & END_STREAM) this.#remoteEnd(s);
  }
}

/** unpad strips a PADDED frame's pad length and padding. */
function unpad(payload: Buffer, flags: number): Buffer {
  if (!(flags & PADDED)) return payload;
  if (payload.length === 0) throw new H2Error(FRAME_SIZE_ERROR, 'padded frame without a pad length');
  const pad = payload[0]!;
  if (pad >= payload.length) throw new H2Error(PROTOCOL_ERROR, 'padding exceeds the frame');
  return payload.subarray(1, payload.length - pad);
}
