import type { Metadata, ServerUnaryCall, ServerWritableStream, ServerDuplexStream, ServerReadableStream } from '@grpc/grpc-js';
import { LEASE_HEADER, NAMESPACE_HEADER, resolveNamespace } from '@ctrd/namespaces';

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
  /** the method path, e.g. `/containerd.services.content.v1.Content/Info`. */
  readonly method: string;
}

/**
 * first returns a header's first value. Node's HTTP/2 server folds a repeated header into one
 * value joined with `, `; containerd (grpc-go keeps the fields apart) uses the first, so the
 * folded value is cut at its first comma. The headers read here carry identifiers, which never
 * contain a comma.
 */
function first(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  if (v === undefined) return undefined;
  const s = typeof v === 'string' ? v : v.toString('utf8');
  const comma = s.indexOf(',');
  return comma < 0 ? s : s.slice(0, comma).trim();
}

/**
 * cancelledReason builds the reason a cancelled call's signal carries. Without a stack trace: a Go
 * client cancels every call it has finished with (the HTTP/2 stream is reset), so this runs for
 * most calls and the trace would only ever point here.
 */
function cancelledReason(): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Error('call cancelled by the client');
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * callContext builds the CallContext of a server call. The AbortController behind `signal` is
 * made only when a handler asks for the signal, and aborted only if it was made.
 */
export function callContext(call: AnyCall, method: string): CallContext {
  let ac: AbortController | undefined;
  let cancelled = call.cancelled;
  if (!cancelled) {
    (call as NodeJS.EventEmitter).once('cancelled', () => {
      cancelled = true;
      // A stream whose responses have all been written belongs to a finished handler: nobody
      // waits on its signal any more (Go clients reset every stream they are done with).
      if (ac !== undefined && (call as { writableEnded?: boolean }).writableEnded !== true) ac.abort(cancelledReason());
    });
  }
  const md = call.metadata;
  let ns: string | undefined;
  return {
    get namespace() {
      ns ??= resolveNamespace(first(md, NAMESPACE_HEADER));
      return ns;
    },
    get namespaceOrUndefined() {
      return first(md, NAMESPACE_HEADER) || undefined;
    },
    get lease() {
      return first(md, LEASE_HEADER) || undefined;
    },
    metadata: md,
    get signal() {
      if (ac === undefined) {
        ac = new AbortController();
        if (cancelled) ac.abort(cancelledReason());
      }
      return ac.signal;
    },
    method,
  };
}
