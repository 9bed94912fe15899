import type { Readable } from 'node:stream';
import type {
  MethodDefinition,
  sendUnaryData,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { pollAfterAnswer } from './busy-poll.js';
import { callContext, type CallContext } from './context.js';
import { drained } from './drained.js';
import { toServiceError } from './status.js';
import type { DirectMethod } from './direct.js';

/** UnaryHandler answers one request with one response. */
export type UnaryHandler<Req, Res> = (req: Req, ctx: CallContext) => Promise<Res> | Res;
/** ServerStreamHandler answers one request with a stream of responses. */
export type ServerStreamHandler<Req, Res> = (req: Req, ctx: CallContext) => AsyncIterable<Res>;
/** ClientStreamHandler reads a stream of requests and answers once. */
export type ClientStreamHandler<Req, Res> = (reqs: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>;
/** BidiStreamHandler reads a stream of requests and writes a stream of responses. */
export type BidiStreamHandler<Req, Res> = (reqs: AsyncIterable<Req>, ctx: CallContext) => AsyncIterable<Res>;

type HandlerOf<M> =
  M extends MethodDefinition<infer Req, infer Res>
    ? M extends { requestStream: true }
      ? M extends { responseStream: true }
        ? BidiStreamHandler<Req, Res>
        : ClientStreamHandler<Req, Res>
      : M extends { responseStream: true }
        ? ServerStreamHandler<Req, Res>
        : UnaryHandler<Req, Res>
    : never;

/** ServiceHandlers maps each method of a grpc-js service definition to its handler type. */
export type ServiceHandlers<D> = { [K in keyof D]: HandlerOf<D[K]> };

/** CallObserver sees each call's method, duration and outcome (for logs and metrics). */
export type CallObserver = (method: string, ms: number, err: unknown) => void;

/**
 * BoundService is a definition with an implementation, ready for `server.addService`. `direct`
 * lists its methods for a server that serves them without grpc-js's call machinery (the daemon's
 * own `GrpcServer` all of them, `serveDirect` in a grpc-js server those that read one request); a
 * service without it is served by grpc-js alone.
 */
export interface BoundService {
  definition: Record<string, MethodDefinition<unknown, unknown>>;
  implementation: UntypedServiceImplementation;
  direct?: readonly DirectMethod[];
}

/**
 * requests iterates a call's incoming messages without destroying the call when they end:
 * a duplex call still has responses to write after the client has finished sending.
 */
function requests(call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): AsyncIterable<unknown> {
  return (call as unknown as Readable).iterator({ destroyOnReturn: false });
}

type AnyHandler = (input: unknown, ctx: CallContext) => unknown;

/*
 * The runners below are the whole per-call path, so they are kept lean: the handler is invoked
 * at once (inside the try, so a synchronous throw is mapped like a rejection), its result is
 * awaited once, and the clock is read only when an observer is listening.
 */

async function runUnary(
  handler: AnyHandler,
  input: unknown,
  call: ServerUnaryCall<unknown, unknown> | ServerReadableStream<unknown, unknown>,
  cb: sendUnaryData<unknown>,
  path: string,
  observe: CallObserver | undefined,
): Promise<void> {
  const started = observe === undefined ? 0 : performance.now();
  let res: unknown;
  try {
    res = await handler(input, callContext(call, path));
  } catch (err) {
    observe?.(path, performance.now() - started, err);
    cb(toServiceError(err));
    pollAfterAnswer();
    return;
  }
  observe?.(path, performance.now() - started, undefined);
  cb(null, res);
  pollAfterAnswer();
}

async function runStreaming(
  handler: AnyHandler,
  input: unknown,
  call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  path: string,
  observe: CallObserver | undefined,
): Promise<void> {
  const started = observe === undefined ? 0 : performance.now();
  try {
    for await (const msg of handler(input, callContext(call, path)) as AsyncIterable<unknown>) {
      // The client is gone (grpc-js sets the flag as it emits `cancelled`): stop the handler.
      if (call.cancelled) return;
      // Respect HTTP/2 flow control: wait until the client has read what was sent.
      if (!call.write(msg)) await drained(call);
    }
  } catch (err) {
    observe?.(path, performance.now() - started, err);
    // grpc-js turns an emitted 'error' into the call's status; destroy() would drop it.
    call.emit('error', Object.assign(new Error(), toServiceError(err)));
    pollAfterAnswer();
    return;
  }
  observe?.(path, performance.now() - started, undefined);
  call.end();
  pollAfterAnswer();
}

/**
 * bindService wraps typed async handlers as a grpc-js implementation. Every thrown error is
 * mapped to its gRPC status here, the one place where errdefs classes become codes.
 */
export function bindService<D extends Record<string, MethodDefinition<any, any>>>(
  definition: D,
  handlers: ServiceHandlers<D>,
  observe?: CallObserver,
): BoundService {
  const implementation: UntypedServiceImplementation = {};
  const direct: DirectMethod[] = [];
  for (const [name, method] of Object.entries(definition)) {
    const handler = (handlers as Record<string, unknown>)[name] as AnyHandler;
    if (typeof handler !== 'function') continue;
    const path = method.path;
    direct.push({
      path,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      deserialize: method.requestDeserialize,
      serialize: method.responseSerialize,
      handler,
      observe,
    });
    if (!method.requestStream && !method.responseStream) {
      implementation[name] = (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) =>
        void runUnary(handler, call.request, call, cb, path, observe);
    } else if (!method.requestStream && method.responseStream) {
      implementation[name] = (call: ServerWritableStream<unknown, unknown>) => void runStreaming(handler, call.request, call, path, observe);
    } else if (method.requestStream && !method.responseStream) {
      implementation[name] = (call: ServerReadableStream<unknown, unknown>, cb: sendUnaryData<unknown>) =>
        void runUnary(handler, requests(call), call, cb, path, observe);
    } else {
      implementation[name] = (call: ServerDuplexStream<unknown, unknown>) => void runStreaming(handler, requests(call), call, path, observe);
    }
  }
  return { definition: definition as BoundService['definition'], implementation, direct };
}
