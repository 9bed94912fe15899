/**
 * `@ctrd/config` reads, validates and prints ctrd's TOML configuration (containerd's version 2
 * layout): the top-level keys, `[grpc]`, `[ttrpc]`, `[debug]`, `[metrics]`, `[timeouts]`,
 * `[proxy_plugins.<name>]` and one `[plugins."<type>.<id>"]` section per plugin, each validated
 * by that plugin's own schema.
 *
 * @packageDocumentation
 */
export * from './schema.js';
export * from './load.js';
export * from './render.js';
export * from './timeouts.js';
