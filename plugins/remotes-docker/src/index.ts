/**
 * `@ctrd/remotes-docker` implements the `@ctrd/remotes` contract for registries speaking the
 * Docker registry API v2 (the OCI distribution API).
 *
 * - {@link createDockerResolver}: resolve by tag or digest, fetch (resumable), push.
 * - {@link configureHosts}: hosts per registry from `<dir>/<registry>/hosts.toml`, as containerd
 *   reads its `config_path` (mirrors with capabilities, `ca`, `client`, `skip_verify`, `header`).
 * - Auth: Bearer token flow (anonymous, OAuth POST, GET with basic credentials) and Basic auth,
 *   from the registry's `WWW-Authenticate` challenge; credentials never cross to another origin.
 *
 * @packageDocumentation
 */
export { createDockerResolver, MAX_MANIFEST_SIZE, type DockerResolver, type DockerResolverOptions } from './docker-resolver.js';
export { DockerFetcher } from './docker-fetcher.js';
export { DockerPusher } from './docker-pusher.js';
export { configureHosts, parseHostsToml, hostDirectoryNames, type HostsConfigOptions, type HostEntry } from './hosts-config.js';
export { Authorizer, type Credentials, type CredentialsFn, type TokenTransport } from './authorizer.js';
export { RegistryClient, type RegistryClientOptions, type RetryOptions, type RegistryRequest, type RegistryResponse } from './registry-client.js';
export { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';
export { statusError } from './errors.js';
export { EXTRA_CA_CERTS_ENV, extraCaCerts, trustFor, type TrustSettings } from './trust.js';
