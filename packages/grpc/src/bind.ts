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
import { callContext, type CallContext } from './context.js';
import { toServiceError } from './status.js';

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

/** BoundService is a definition with an implementation, ready for `server.addService`. */
export interface BoundService {
  definition: Record<string, MethodDefinition<unknown, unknown>>;
  implementation: UntypedServiceImplementation;
}

/**
 * requests iterates a call's incoming messages without destroying the call when they end:
 * a duplex call still has responses to write after the client has finished sending.
 */
function requests(call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): AsyncIterable<unknown> {
  return (call as unknown as Readable).iterator({ destroyOnReturn: false });
}

async function writeAll<Res>(call: ServerWritableStream<unknown, Res> | ServerDuplexStream<unknown, Res>, it: AsyncIterable<Res>, signal: AbortSignal) {
  for await (const msg of it) {
    if (signal.aborted) return;
    if (!call.write(msg)) {
      // Respect HTTP/2 flow control: wait until the client has read what was sent.
      await new Promise<void>((resolve) => {
        const done = () => {
          call.off('drain', done);
          call.off('close', done);
          resolve();
        };
        call.once('drain', done);
        call.once('close', done);
      });
    }
  }
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
  for (const [name, method] of Object.entries(definition)) {
    const handler = (handlers as Record<string, unknown>)[name] as (...a: unknown[]) => unknown;
    if (typeof handler !== 'function') continue;
    const path = method.path;
    const done = (started: number, err: unknown) => observe?.(path, performance.now() - started, err);
    if (!method.requestStream && !method.responseStream) {
      implementation[name] = (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
        const started = performance.now();
        Promise.resolve()
          .then(() => handler(call.request, callContext(call, path)))
          .then(
            (res) => {
              done(started, undefined);
              cb(null, res);
            },
            (err) => {
              done(started, err);
              cb(toServiceError(err));
            },
          );
      };
    } else if (!method.requestStream && method.responseStream) {
      implementation[name] = (call: ServerWritableStream<unknown, unknown>) => {
        const started = performance.now();
        const ctx = callContext(call, path);
        Promise.resolve()
          .then(() => writeAll(call, handler(call.request, ctx) as AsyncIterable<unknown>, ctx.signal))
          .then(
            () => {
              done(started, undefined);
              call.end();
            },
            (err) => {
              done(started, err);
              // grpc-js turns an emitted 'error' into the call's status; destroy() would drop it.
              call.emit('error', Object.assign(new Error(), toServiceError(err)));
            },
          );
      };
    } else if (method.requestStream && !method.responseStream) {
      implementation[name] = (call: ServerReadableStream<unknown, unknown>, cb: sendUnaryData<unknown>) => {
        const started = performance.now();
        Promise.resolve()
          .then(() => handler(requests(call), callContext(call, path)))
          .then(
            (res) => {
              done(started, undefined);
              cb(null, res);
            },
            (err) => {
              done(started, err);
              cb(toServiceError(err));
            },
          );
      };
    } else {
      implementation[name] = (call: ServerDuplexStream<unknown, unknown>) => {
        const started = performance.now();
        const ctx = callContext(call, path);
        Promise.resolve()
          .then(() => writeAll(call, handler(requests(call), ctx) as AsyncIterable<unknown>, ctx.signal))
          .then(
            () => {
              done(started, undefined);
              call.end();
            },
            (err) => {
              done(started, err);
              // grpc-js turns an emitted 'error' into the call's status; destroy() would drop it.
              call.emit('error', Object.assign(new Error(), toServiceError(err)));
            },
          );
      };
    }
  }
  return { definition: definition as BoundService['definition'], implementation };
}
