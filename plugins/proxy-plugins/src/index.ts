/**
 * `@ctrd/proxy-plugins` loads containerd's proxy plugins: a `[proxy_plugins.<name>]` table with
 * `type = "snapshot"` or `"content"` and the `address` of a unix socket becomes a snapshotter
 * (`io.containerd.snapshotter.v1.<name>`) or content store (`io.containerd.content.v1.<name>`)
 * plugin whose calls go to containerd's Snapshots or Content gRPC service on that socket. Such
 * a plugin lists in `ctr plugins ls` and is used like a built-in one:
 * `ctr snapshots --snapshotter <name> ls`.
 *
 * @packageDocumentation
 */
export { proxyPluginRegistrations, proxyTypeOf } from './plugin.js';
export { ProxySnapshotter } from './proxy-snapshotter.js';
export { ProxyContentStore } from './proxy-content-store.js';
export { ProxyClients } from './proxy-clients.js';
export { forwardedNamespace } from './forwarded-namespace.js';
