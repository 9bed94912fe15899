import type { Metadata, ServerUnaryCall, ServerWritableStream, ServerDuplexStream, ServerReadableStream } from '@grpc/grpc-js';
import { LEASE_HEADER, NAMESPACE_HEADER, resolveNamespace } from '@ctrd/namespaces';
import { cancelledReason, firstValue } from './headers.js';

type AnyCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>
  | ServerReadableStream<unknown, unknown>;

/**
 * CallContext is what a service handler learns about its call: the namespace (resolved lazily,
 * so a call to a non-namespaced method never fails for lack of one), the lease header and an
 * AbortSignal that fires when the client cancels or disconnects.
 */
export interface CallContext {
  /** the namespace header's first value; throws FailedPrecondition when absent, InvalidArgument when malformed. */
  readonly namespace: string;
  /** the namespace header's first value, or undefined. */
  readonly namespaceOrUndefined: string | undefined;
  /** the `containerd-lease` header's first value, if any. */
  readonly lease: string | undefined;
  readonly metadata: Metadata;
  readonly signal: AbortSignal;
  /**
   * whether the client has cancelled the call or gone away. A cheap poll for a handler that only
   * checks between steps: building `signal` costs an AbortSignal, several microseconds in Node 20.
   */
  readonly cancelled: boolean;
  /** the method path, e.g. `/containerd.services.content.v1.Content/Info`. */
  readonly method: string;
}

/** first returns a header's first value (see firstValue). */
function first(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return firstValue(v === undefined || typeof v === 'string' ? v : v.toString('utf8'));
}

/** Marks a header not read yet (undefined is a header's absence). */
const UNREAD = Symbol('unread');

/**
 * ServerCallContext is a call's context. A class rather than an object literal with getters: a
 * literal with accessors is built slowly on every call, a class instance shares its accessors.
 * Nothing is registered on the call until a handler asks for the signal: grpc-js sets the call's
 * `cancelled` flag before it emits `cancelled`, so the flag answers for the time before.
 */
class ServerCallContext implements CallContext {
  readonly #call: AnyCall;
  #ac: AbortController | undefined = undefined;
  #header: string | undefined | typeof UNREAD = UNREAD;
  #ns: string | undefined = undefined;
  readonly metadata: Metadata;
  readonly method: string;

  constructor(call: AnyCall, method: string) {
    this.#call = call;
    this.metadata = call.metadata;
    this.method = method;
  }

  #namespaceHeader(): string | undefined {
    if (this.#header === UNREAD) this.#header = first(this.metadata, NAMESPACE_HEADER);
    return this.#header;
  }

  get namespace(): string {
    this.#ns ??= resolveNamespace(this.#namespaceHeader());
    return this.#ns;
  }

  get namespaceOrUndefined(): string | undefined {
    return this.#namespaceHeader() || undefined;
  }

  get lease(): string | undefined {
    return first(this.metadata, LEASE_HEADER) || undefined;
  }

  get cancelled(): boolean {
    return this.#call.cancelled;
  }

  get signal(): AbortSignal {
    if (this.#ac === undefined) {
      const ac = new AbortController();
      this.#ac = ac;
      const call = this.#call;
      if (call.cancelled) ac.abort(cancelledReason());
      else {
        (call as NodeJS.EventEmitter).once('cancelled', () => {
          // A stream whose responses have all been written belongs to a finished handler: nobody
          // waits on its signal any more (Go clients reset every stream they are done with).
          if ((call as { writableEnded?: boolean }).writableEnded !== true) ac.abort(cancelledReason());
        });
      }
    }
    return this.#ac.signal;
  }
}

/**
 * callContext builds the CallContext of a server call. The AbortController behind `signal` is
 * made only when a handler asks for the signal, and aborted only if it was made.
 */
export function callContext(call: AnyCall, method: string): CallContext {
  return new ServerCallContext(call, method);
}
