/**
 * `@ctrd/grpc` is the service edge: the one place where errdefs classes become gRPC status codes
 * (and, in clients, codes become classes again), where the `containerd-namespace` and
 * `containerd-lease` headers are read, and where typed async handlers are bound to grpc-js (the
 * daemon serves their unary and server-streaming methods itself, `serveDirect`, and leaves the
 * rest to grpc-js).
 *
 * @packageDocumentation
 */
export * from './status.js';
export * from './context.js';
export * from './bind.js';
export * from './direct.js';
export * from './busy-poll.js';
export * from './service-plugin.js';
export * from './options.js';
