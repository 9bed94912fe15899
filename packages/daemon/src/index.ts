/**
 * `@ctrd/daemon` is the ctrd daemon: its built-in plugin list, the Daemon that boots them and
 * serves gRPC and ttrpc, and the `ctrd` binary.
 *
 * @packageDocumentation
 */
export { Daemon, type DaemonOptions } from './daemon.js';
export { EarlyServer, earlyServerOptions, type EarlyServerOptions } from './early-server.js';
export { builtins } from './builtins.js';
export { systemPlugins } from './services/index.js';
export { VERSION, REVISION } from './version.js';
export { hostPlatform } from './platform.js';
