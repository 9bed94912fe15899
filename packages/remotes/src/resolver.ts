import type { Readable } from 'node:stream';
import type { Descriptor } from './oci-types.js';

/** Resolved is what {@link Resolver.resolve} returns: the canonical name and the root descriptor. */
export interface Resolved {
  /** name is the reference as resolved, in canonical form (`host/path:tag` or `host/path@digest`). */
  name: string;
  /** descriptor is the root object: a manifest or an index, with digest, size and media type. */
  descriptor: Descriptor;
  /** fetcher reads content of the same repository. */
  fetcher: Fetcher;
}

/** RequestOptions are per-call options every remote operation accepts. */
export interface RequestOptions {
  /** signal aborts the request and any stream it returned. */
  signal?: AbortSignal;
}

/** FetchOptions are the options of {@link Fetcher.fetch}. */
export interface FetchOptions extends RequestOptions {
  /** offset is the byte to start at, to resume a partial download (sent as `Range: bytes=N-`). */
  offset?: number;
}

/** PushOptions are the options of {@link Pusher.push}. */
export interface PushOptions extends RequestOptions {
  /** byDigest puts a manifest under its digest instead of the reference's tag (children of an index). */
  byDigest?: boolean;
}

/**
 * Resolver turns a reference into a descriptor, and hands out fetchers and pushers for the
 * reference's repository.
 */
export interface Resolver {
  /**
   * resolve looks the reference up by tag or by digest.
   *
   * @throws NotFoundError when no host has it; InvalidArgumentError for a malformed reference.
   */
  resolve(ref: string, opts?: RequestOptions): Promise<Resolved>;
  /** fetcher returns a Fetcher for the repository of `ref`. */
  fetcher(ref: string): Promise<Fetcher>;
  /** pusher returns a Pusher for the repository of `ref`; its tag names the manifest pushed. */
  pusher(ref: string): Promise<Pusher>;
}

/**
 * Fetcher reads content by descriptor. The stream yields the bytes from `offset` on; it is not
 * verified against the digest (that is the ingesting store's job).
 *
 * @throws NotFoundError when no host has the content.
 */
export interface Fetcher {
  fetch(desc: Descriptor, opts?: FetchOptions): Promise<Readable>;
}

/**
 * PushSource is the content of a push: bytes, a stream, or a function opening a fresh stream (the
 * last lets a failed upload be retried from the start).
 */
export type PushSource = Uint8Array | AsyncIterable<Uint8Array> | (() => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>);

/**
 * Pusher uploads content by descriptor to one repository. Manifests and indexes go to
 * `manifests/<tag>` when the pusher's reference has a tag (else `manifests/<digest>`); all other
 * media types are blobs.
 */
export interface Pusher {
  /**
   * push uploads `desc` from `source`.
   *
   * @throws AlreadyExistsError when the registry already has the content (source is not read).
   */
  push(desc: Descriptor, source: PushSource, opts?: PushOptions): Promise<void>;
  /** exists reports whether the registry already has `desc`. */
  exists(desc: Descriptor, opts?: RequestOptions): Promise<boolean>;
}
