/**
 * `@ctrd/client` is a TypeScript client for ctrd (and containerd): one Connection per socket,
 * service clients on it, and errors mapped back to `@ctrd/errdefs` classes.
 *
 * @packageDocumentation
 */
export * from './connection.js';
export * from './system.js';
