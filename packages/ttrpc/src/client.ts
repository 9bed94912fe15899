import net from 'node:net';
import {
  CanceledError,
  DeadlineExceededError,
  ResourceExhaustedError,
  UnavailableError,
  UnknownError,
} from '@ctrd/errdefs';
import { FrameReader, type FrameHeader, MAX_MESSAGE_LENGTH, MessageType } from './frame.js';
import { type EncodedFrame, type KeyValue, decodeResponse, encodeRequestFrame } from './messages.js';
import { errorFromStatus } from './status.js';
import { writeFrame } from './write-frame.js';

/** CallOptions tunes one ttrpc call. */
export interface CallOptions {
  /** Deadline relative to now; sent to the server as `timeout_nano` and enforced locally. `Infinity` means none. */
  timeoutMs?: number;
  /** Request metadata; keys are lower-cased as Go's `ttrpc.MD` does. */
  metadata?: Readonly<Record<string, string | readonly string[]>>;
  /** Abandons the call with a `CanceledError` (ttrpc 1.1 has no cancel message; the server keeps going). */
  signal?: AbortSignal;
}

/** CloseListener learns that a client's connection ended: `reason` is undefined after `close()`. */
export type CloseListener = (reason: Error | undefined) => void;

/** TtrpcClientOptions configures a {@link TtrpcClient}. */
export interface TtrpcClientOptions {
  /** Called once when the connection ends, like `onClose(listener)`. */
  onClose?: CloseListener;
}

/** ConnectOptions configures {@link TtrpcClient.connect}. */
export interface ConnectOptions extends TtrpcClientOptions {
  /** Gives up dialling after this long (default 5000 ms, as containerd's ttrpc dialer). */
  timeoutMs?: number;
  /** Abandons dialling. */
  signal?: AbortSignal;
}

interface PendingCall {
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const DEFAULT_DIAL_TIMEOUT_MS = 5000;
/** setTimeout cannot wait longer than this; longer deadlines are only sent to the server. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * TtrpcClient is a ttrpc 1.1 client over one stream socket: unary calls, any number in flight,
 * matched to their responses by odd stream ids.
 *
 * A non-OK status rejects the call with the errdefs class for its code (suffix stripped). When the
 * connection ends every pending call fails with `UnavailableError('ttrpc: closed')`, and so does
 * every later call.
 */
export class TtrpcClient {
  private readonly socket: net.Socket;
  private readonly reader: FrameReader;
  private readonly pending = new Map<number, PendingCall>();
  private readonly closeListeners = new Set<CloseListener>();
  private nextStreamId = 1;
  private closed = false;
  private closeReason: Error | undefined;
  private socketError: Error | undefined;

  /**
   * TtrpcClient.connect dials the unix socket at `path`. Dial failures and timeouts reject with
   * `UnavailableError`, an aborted `signal` with `CanceledError`.
   */
  static connect(path: string, opts: ConnectOptions = {}): Promise<TtrpcClient> {
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new CanceledError(`ttrpc: dial unix ${path}: canceled`, { cause: opts.signal.reason }));
        return;
      }
      const socket = net.createConnection({ path });
      const timeoutMs = opts.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('connect', onConnect);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const fail = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onError = (err: Error): void =>
        fail(new UnavailableError(`ttrpc: dial unix ${path}: ${err.message}`, { cause: err }));
      const onAbort = (): void =>
        fail(new CanceledError(`ttrpc: dial unix ${path}: canceled`, { cause: opts.signal?.reason }));
      const onConnect = (): void => {
        cleanup();
        resolve(new TtrpcClient(socket, opts));
      };
      const timer =
        timeoutMs <= MAX_TIMER_MS
          ? setTimeout(() => fail(new UnavailableError(`ttrpc: dial unix ${path}: timed out after ${timeoutMs}ms`)), timeoutMs)
          : undefined;
      socket.once('error', onError);
      socket.once('connect', onConnect);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The constructor takes over `socket` (connected or still connecting) for its whole life. */
  constructor(socket: net.Socket, opts: TtrpcClientOptions = {}) {
    this.socket = socket;
    if (opts.onClose !== undefined) this.closeListeners.add(opts.onClose);
    this.reader = new FrameReader({
      frame: (header, payload) => this.onFrame(header, payload),
      oversize: (header) =>
        this.settle(
          header.streamId,
          new ResourceExhaustedError(
            `message length ${header.length} exceed maximum message size of ${MAX_MESSAGE_LENGTH}`,
          ),
        ),
    });
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', (err) => {
      this.socketError ??= err;
    });
    socket.on('close', () => this.teardown(this.socketError ?? new UnavailableError('ttrpc: closed')));
    if (socket.destroyed) this.teardown(new UnavailableError('ttrpc: closed'));
  }

  /** isClosed reports whether the connection has ended (or `close()` was called). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** pendingCalls is the number of calls waiting for a response. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /**
   * call sends one unary request and resolves with the response payload.
   *
   * Rejects with the errdefs class of a non-OK status, `DeadlineExceededError` when `timeoutMs`
   * passes, `CanceledError` when `signal` aborts, `ResourceExhaustedError` for a request over 4 MiB
   * and `UnavailableError` when the connection is or becomes closed.
   */
  call(service: string, method: string, payload: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new UnavailableError('ttrpc: closed', { cause: this.closeReason }));
    const { signal } = opts;
    const timeoutMs = opts.timeoutMs === Infinity ? undefined : opts.timeoutMs;
    if (signal?.aborted) return Promise.reject(canceled(service, method, signal));
    if (timeoutMs !== undefined && !(timeoutMs > 0)) return Promise.reject(deadline(service, method, timeoutMs));

    const streamId = this.nextStreamId;
    this.nextStreamId = (streamId + 2) >>> 0;
    const frame = encodeRequestFrame(streamId, {
      service,
      method,
      payload,
      timeoutNano: timeoutMs === undefined ? 0n : toNanos(timeoutMs),
      metadata: metadataPairs(opts.metadata),
    });
    if (frame.length > MAX_MESSAGE_LENGTH) {
      return Promise.reject(
        new ResourceExhaustedError(
          `message length ${frame.length} exceed maximum message size of ${MAX_MESSAGE_LENGTH}`,
        ),
      );
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const call: PendingCall = { resolve, reject };
      if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
        call.timer = setTimeout(() => this.settle(streamId, deadline(service, method, timeoutMs)), timeoutMs);
      }
      if (signal !== undefined) {
        call.signal = signal;
        call.onAbort = () => this.settle(streamId, canceled(service, method, signal));
        signal.addEventListener('abort', call.onAbort, { once: true });
      }
      this.pending.set(streamId, call);
      this.send(frame);
    });
  }

  /**
   * onClose registers `listener` for the end of the connection and returns a function that
   * removes it. A listener added after the end is called on the next microtask.
   */
  onClose(listener: CloseListener): () => void {
    if (this.closed) {
      queueMicrotask(() => listener(this.closeReason));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** close fails pending calls, ends the connection and resolves once the socket is closed. */
  close(): Promise<void> {
    this.teardown(undefined);
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }

  private send(frame: EncodedFrame): void {
    writeFrame(this.socket, frame);
  }

  private onFrame(header: FrameHeader, payload: Uint8Array): void {
    if (!this.pending.has(header.streamId)) return;
    if (header.type !== MessageType.Response) {
      this.settle(header.streamId, new UnknownError(`ttrpc: unknown message type ${header.type} received`));
      return;
    }
    let result: Uint8Array | Error;
    try {
      const res = decodeResponse(payload);
      result = res.status !== undefined && res.status.code !== 0 ? errorFromStatus(res.status) : res.payload;
    } catch (err) {
      result = new UnknownError('ttrpc: malformed response', { cause: err });
    }
    this.settle(header.streamId, result);
  }

  private settle(streamId: number, result: Uint8Array | Error): void {
    const call = this.pending.get(streamId);
    if (call === undefined) return;
    this.pending.delete(streamId);
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    if (result instanceof Error) call.reject(result);
    else call.resolve(result);
  }

  private teardown(reason: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    const err = new UnavailableError('ttrpc: closed', reason === undefined ? undefined : { cause: reason });
    for (const id of [...this.pending.keys()]) this.settle(id, err);
    if (!this.socket.destroyed) this.socket.destroy();
    for (const listener of this.closeListeners) {
      try {
        listener(reason);
      } catch (listenerErr) {
        queueMicrotask(() => {
          throw listenerErr;
        });
      }
    }
    this.closeListeners.clear();
  }
}

function metadataPairs(md: CallOptions['metadata']): KeyValue[] {
  const out: KeyValue[] = [];
  if (md === undefined) return out;
  for (const [k, v] of Object.entries(md)) {
    const key = k.toLowerCase();
    if (typeof v === 'string') out.push({ key, value: v });
    else for (const value of v) out.push({ key, value });
  }
  return out;
}

function canceled(service: string, method: string, signal: AbortSignal): CanceledError {
  return new CanceledError(`ttrpc: /${service}/${method}: canceled`, { cause: signal.reason });
}

const INT64_MAX = (1n << 63n) - 1n;

function toNanos(ms: number): bigint {
  const ns = BigInt(Math.ceil(ms * 1e6));
  return ns > INT64_MAX ? INT64_MAX : ns;
}

function deadline(service: string, method: string, timeoutMs: number): DeadlineExceededError {
  return new DeadlineExceededError(`ttrpc: /${service}/${method}: no response within ${timeoutMs}ms`);
}
