/**
 * `@ctrd/grpc` is the service edge: the one place where errdefs classes become gRPC status codes
 * (and, in clients, codes become classes again), where the `containerd-namespace` and
 * `containerd-lease` headers are read, and where typed async handlers are bound to a server:
 * grpc-js's, or the daemon's own `GrpcServer`, which speaks HTTP/2 and gRPC itself.
 *
 * @packageDocumentation
 */
export * from './status.js';
export * from './context.js';
export * from './bind.js';
export {
  ERROR_HEADERS,
  grpcMessage,
  MAX_MESSAGE_BYTES,
  RESPONSE_HEADERS,
  type CallStream,
  type DirectLimits,
  type DirectMethod,
} from './direct.js';
export { serveCall, type RequestSink } from './serve-call.js';
export * from './node-call.js';
export * from './server.js';
export * from './busy-poll.js';
export * from './service-plugin.js';
export * from './options.js';
