import { validateNamespace } from '@ctrd/namespaces';

const BACKEND_KEY = /^([^/]+)\/\d+\//;

/**
 * forwardedNamespace returns the namespace a call to a proxied backend forwards in its
 * `containerd-namespace` header, or undefined for none.
 *
 * containerd hands its backends the caller's context, and its gRPC server copies the incoming
 * namespace into the outgoing metadata, so a proxy plugin sees the namespace of the request that
 * caused the call; calls made outside a request (garbage collection's walk) carry none.
 * ctrd's backends take no context, but the metadata layer names every backend snapshot and
 * ingest `<namespace>/<sequence>/<key>` for the request's namespace, so the namespace is read
 * back from the key. Calls without such a key (walk, cleanup, lookups by digest) forward none.
 */
export function forwardedNamespace(key: string | undefined): string | undefined {
  const m = key === undefined ? null : BACKEND_KEY.exec(key);
  if (!m) return undefined;
  try {
    validateNamespace(m[1]!);
    return m[1]!;
  } catch {
    return undefined;
  }
}
