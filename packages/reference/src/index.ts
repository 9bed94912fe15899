/**
 * `@ctrd/reference` parses and normalises image references.
 *
 * - {@link parseReference} is strict, as containerd's own tools are: `host[:port]/path[:tag][@digest]`.
 * - {@link parseNormalizedNamed} and {@link parseDockerRef} apply the docker CLI's defaults
 *   (`busybox` → `docker.io/library/busybox:latest`); {@link familiarName} goes back.
 *
 * Every error is an `InvalidArgumentError` whose message names the input.
 *
 * @packageDocumentation
 */
export { Reference, parseReference, parseNormalizedNamed, parseDockerRef, splitDockerDomain, tagNameOnly, familiarName, familiarString, DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX, DEFAULT_TAG } from './reference.js';
export { validateDigest, isDigest, DIGEST_HEX_LENGTHS } from './digest.js';
export { REFERENCE_RE, NAME_RE, TAG_RE, DIGEST_RE, IDENTIFIER_RE, NAME_TOTAL_LENGTH_MAX } from './grammar.js';
