/**
 * `@ctrd/remotes-docker/testing` holds what tests of registry clients share: a real Debian
 * `docker-registry` on loopback ({@link startRegistry}, optionally in token-auth mode), free
 * ports, tiny test images and stream helpers.
 *
 * @packageDocumentation
 */
export { startRegistry, type RegistryTokenAuth, type StartRegistryOptions, type TestRegistry } from './test-registry.js';
export { blob, freePort, hasCommand, makeTestImage, readAll, type TestBlob, type TestImage } from './fixtures.js';
export { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.js';
