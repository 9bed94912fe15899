/**
 * `@ctrd/ttrpc` speaks containerd's ttrpc protocol (version 1.1, as containerd 1.6 and its shims
 * use it) on unix sockets: a multiplexing unary {@link TtrpcClient}, a {@link TtrpcServer}, and
 * typed helpers over ts-proto's generic service definitions ({@link createClient},
 * {@link registerService}).
 *
 * Errors cross the wire as `google.rpc.Status`: a handler's errdefs class becomes the gRPC code and
 * its message gets containerd's `: <class>` suffix; the client turns the code back into the class
 * and strips the suffix, so `NotFoundError('container "x"')` thrown in a shim is a
 * `NotFoundError('container "x"')` in the daemon.
 *
 * @packageDocumentation
 */
export { TtrpcClient } from './client.js';
export type { CallOptions, CloseListener, ConnectOptions, TtrpcClientOptions } from './client.js';
export { TtrpcServer } from './server.js';
export type { ListenOptions, ServiceHandlers, TtrpcServerOptions } from './server.js';
export type { CallContext, Handler } from './server-connection.js';
export { createClient } from './create-client.js';
export { registerService } from './register-service.js';
export type {
  MessageFns,
  MethodDefinition,
  RequestOf,
  ResponseOf,
  ServiceClient,
  ServiceDefinition,
  ServiceImplementation,
} from './definition.js';
export { FRAME_HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType } from './frame.js';
export { StatusCode, errorCodeOf, errorFromStatus, statusCodeOf, statusFromError } from './status.js';
export type { RpcStatus } from './messages.js';
export { isTtrpcServicePlugin, type TtrpcServicePlugin } from './service-plugin.js';
