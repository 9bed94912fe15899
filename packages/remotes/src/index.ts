/**
 * `@ctrd/remotes` is the contract for talking to image registries.
 *
 * A {@link Resolver} turns a reference into the descriptor of its root manifest or index; a
 * {@link Fetcher} reads any descriptor's bytes (resumable from an offset); a {@link Pusher} uploads
 * them, throwing `AlreadyExistsError` for content the registry has. Registries are served by
 * ordered {@link RegistryHost}s (mirrors first, the upstream last), each with capabilities.
 *
 * The package also holds the OCI and Docker media types, the manifest, index and config types, and
 * platform normalisation and matching used to pick a manifest from an index.
 *
 * @packageDocumentation
 */
export * from './media-types.js';
export type { Platform, Descriptor, Manifest, Index, ImageConfig } from './oci-types.js';
export * from './platforms.js';
export type { Resolver, Resolved, Fetcher, FetchOptions, Pusher, PushSource, PushOptions, RequestOptions } from './resolver.js';
export * from './hosts.js';
