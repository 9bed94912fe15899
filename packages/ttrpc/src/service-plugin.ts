import type { TtrpcServer } from './server.js';

/**
 * TtrpcServicePlugin is a plugin instance that serves calls on the daemon's ttrpc socket (the
 * one shims publish events to); the daemon calls `registerTtrpc` once all plugins have loaded.
 */
export interface TtrpcServicePlugin {
  registerTtrpc(server: TtrpcServer): void;
}

/** isTtrpcServicePlugin reports whether a plugin instance offers ttrpc services. */
export function isTtrpcServicePlugin(x: unknown): x is TtrpcServicePlugin {
  return typeof x === 'object' && x !== null && typeof (x as TtrpcServicePlugin).registerTtrpc === 'function';
}
