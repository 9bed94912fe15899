import type { Socket } from 'node:net';
import { CanceledError, DeadlineExceededError } from '@ctrd/errdefs';
import { FrameReader, type FrameHeader, MAX_MESSAGE_LENGTH, MessageType } from './frame.js';
import { type RpcStatus, type TtrpcRequest, decodeRequest, encodeResponseFrame } from './messages.js';
import { StatusCode, statusFromError } from './status.js';
import { writeFrame } from './write-frame.js';

/** CallContext is what a ttrpc handler learns about the call besides its payload. */
export interface CallContext {
  /** Service name as sent by the client (`containerd.task.v2.Task`). */
  service: string;
  /** Method name as sent by the client (`Create`). */
  method: string;
  /** Request metadata: every value of every key, keys as sent. */
  metadata: Record<string, string[]>;
  /** Aborted when the client's `timeout_nano` passes or the connection goes away. */
  signal: AbortSignal;
  /** Absolute deadline in epoch milliseconds, when the client sent one. */
  deadline?: number;
}

/** Handler serves one ttrpc method: request payload in, response payload out; throw errdefs errors. */
export type Handler = (payload: Uint8Array, ctx: CallContext) => Promise<Uint8Array> | Uint8Array;

/** Resolver finds the handler for a call, or the status that refuses it. */
export type Resolver = (service: string, method: string) => Handler | RpcStatus;

const OK: RpcStatus = { code: StatusCode.OK, message: '' };
const EMPTY: Uint8Array = new Uint8Array(0);
/** setTimeout cannot wait longer than this; longer deadlines are simply not armed. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * ServerConnection serves the calls arriving on one accepted socket. Each request runs
 * concurrently; responses go out in completion order, tagged with their stream id.
 */
export class ServerConnection {
  private readonly inFlight = new Set<ServerCall>();
  private readonly reader: FrameReader;
  private draining = false;
  /** closed resolves once the socket is gone and every in-flight call was told so. */
  readonly closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly resolve: Resolver,
    private readonly onError: (err: Error) => void,
  ) {
    this.reader = new FrameReader({
      frame: (header, payload) => this.onFrame(header, payload),
      oversize: (header) =>
        this.respond(header.streamId, {
          code: StatusCode.ResourceExhausted,
          message: `message length ${header.length} exceed maximum message size of ${MAX_MESSAGE_LENGTH}`,
        }),
    });
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', (err) => this.onError(err));
    this.closed = new Promise((resolveClosed) => {
      socket.once('close', () => {
        const reason = new CanceledError('ttrpc: connection closed');
        for (const c of this.inFlight) c.abort(reason);
        resolveClosed();
      });
    });
  }

  /** activeCalls is the number of calls whose handler has not finished. */
  get activeCalls(): number {
    return this.inFlight.size;
  }

  /** drain closes the connection as soon as it has no call in flight (at once when idle). */
  drain(): void {
    this.draining = true;
    if (this.inFlight.size === 0) this.socket.destroy();
  }

  /** destroy closes the connection now; handlers still running see their signal abort. */
  destroy(): void {
    this.socket.destroy();
  }

  private onFrame(header: FrameHeader, payload: Uint8Array): void {
    // Other frame types belong to later protocol versions; ignoring them keeps us compatible.
    if (header.type !== MessageType.Request) return;
    let req: TtrpcRequest;
    try {
      req = decodeRequest(payload);
    } catch (err) {
      const message = `unmarshal request error: ${err instanceof Error ? err.message : String(err)}`;
      this.respond(header.streamId, { code: StatusCode.InvalidArgument, message });
      return;
    }
    if (header.streamId % 2 !== 1) {
      this.respond(header.streamId, {
        code: StatusCode.InvalidArgument,
        message: 'StreamID must be odd for client initiated streams',
      });
      return;
    }
    void this.dispatch(header.streamId, req);
  }

  private async dispatch(streamId: number, req: TtrpcRequest): Promise<void> {
    const target = this.resolve(req.service, req.method);
    if (typeof target !== 'function') {
      this.respond(streamId, target);
      return;
    }
    const ctx = new ServerCall(req);
    this.inFlight.add(ctx);
    let timer: NodeJS.Timeout | undefined;
    if (req.timeoutNano !== 0n) {
      const ms = Number(req.timeoutNano) / 1e6;
      ctx.deadline = Date.now() + ms;
      const expire = (): void => ctx.abort(new DeadlineExceededError('context deadline exceeded'));
      if (ms <= 0) expire();
      else if (ms <= MAX_TIMER_MS) timer = setTimeout(expire, ms);
    }
    let status = OK;
    let payload = EMPTY;
    try {
      const out = await target(req.payload, ctx);
      if (out instanceof Uint8Array) payload = out;
      else status = { code: StatusCode.Unknown, message: 'ttrpc: marshal called with nil' };
    } catch (err) {
      status = statusFromError(err);
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(ctx);
    }
    this.respond(streamId, status, payload);
    if (this.draining && this.inFlight.size === 0) this.socket.destroy();
  }

  private respond(streamId: number, status: RpcStatus, payload: Uint8Array = EMPTY): void {
    let frame = encodeResponseFrame(streamId, status, payload);
    if (frame.length > MAX_MESSAGE_LENGTH) {
      frame = encodeResponseFrame(streamId, {
        code: StatusCode.ResourceExhausted,
        message: `message length ${frame.length} exceed maximum message size of ${MAX_MESSAGE_LENGTH}`,
      }, EMPTY);
    }
    writeFrame(this.socket, frame);
  }
}

/**
 * ServerCall is the context of one call in flight. Its metadata record and its AbortSignal are
 * built when a handler first asks: few handlers read either, and an AbortSignal costs several
 * microseconds to make in Node 20, on every call the shim and the daemon exchange. An abort
 * before anyone asked is remembered and shows on the signal when it is made.
 */
class ServerCall implements CallContext {
  readonly #req: TtrpcRequest;
  #metadata: Record<string, string[]> | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;
  deadline?: number;

  constructor(req: TtrpcRequest) {
    this.#req = req;
  }

  get service(): string {
    return this.#req.service;
  }

  get method(): string {
    return this.#req.method;
  }

  get metadata(): Record<string, string[]> {
    this.#metadata ??= metadataRecord(this.#req);
    return this.#metadata;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** abort aborts the call's signal with `reason`; the first reason stays, as with AbortController. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

function metadataRecord(req: TtrpcRequest): Record<string, string[]> {
  const md: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const { key, value } of req.metadata) (md[key] ??= []).push(value);
  return md;
}
