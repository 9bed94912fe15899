/**
 * `@ctrd/config` reads, validates and prints ctrd's TOML configuration (containerd's version 2
 * layout): the top-level keys, `[grpc]`, `[ttrpc]`, `[debug]`, `[metrics]`, `[timeouts]`,
 * `[proxy_plugins.<name>]` and one `[plugins."<type>.<id>"]` section per plugin, each validated
 * by that plugin's own schema.
 *
 * The daemon reads its config before it binds its socket, so this package takes only
 * `@ctrd/plugin`'s light entries (`/schema`, `/types`): the package's index brings the kernel,
 * tsyringe and the logger, whose loading (~16 ms) waits until the socket answers.
 *
 * @packageDocumentation
 */
export * from './schema.js';
export * from './load.js';
export * from './render.js';
export * from './timeouts.js';
