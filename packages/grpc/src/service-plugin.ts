import type { BoundService } from './bind.js';

/**
 * GrpcServicePlugin is what a plugin of type `io.containerd.grpc.v1` returns from init: the
 * daemon adds every bound service it lists to the gRPC server once all plugins have loaded.
 */
export interface GrpcServicePlugin {
  grpcServices(): BoundService[];
}

/** isGrpcServicePlugin reports whether a plugin instance offers gRPC services. */
export function isGrpcServicePlugin(x: unknown): x is GrpcServicePlugin {
  return typeof x === 'object' && x !== null && typeof (x as GrpcServicePlugin).grpcServices === 'function';
}
