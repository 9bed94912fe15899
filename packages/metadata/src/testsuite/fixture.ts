import { codeOf } from '@ctrd/errdefs';
import type { ContainerStore } from '../containers.js';
import type { ImageStore } from '../images.js';
import type { LeaseManager } from '../leases.js';
import type { NamespaceStore } from '../namespaces.js';

/**
 * MetadataFixture is what a conformance suite runs against: the four stores, reached only
 * through their contracts, plus optional hooks for records the contracts cannot make themselves.
 */
export interface MetadataFixture {
  namespaces: NamespaceStore;
  images: ImageStore;
  containers: ContainerStore;
  leases: LeaseManager;
  /** addBlob stores `data` as content referenced by `namespace` and returns its digest. */
  addBlob?(namespace: string, data: Uint8Array): Promise<string>;
  /** addSnapshot creates an active snapshot `key` in `namespace` on `snapshotter`. */
  addSnapshot?(namespace: string, snapshotter: string, key: string): Promise<void>;
  /** close releases the fixture; the suite calls it after every test. */
  close(): Promise<void>;
}

/** MetadataFixtureFactory makes a fresh, empty fixture for one test. */
export type MetadataFixtureFactory = () => Promise<MetadataFixture>;

/** withFixture runs `fn` against a fresh fixture and always closes it. */
export async function withFixture(factory: MetadataFixtureFactory, fn: (f: MetadataFixture) => Promise<void>): Promise<void> {
  const f = await factory();
  try {
    await fn(f);
  } finally {
    await f.close();
  }
}

/** sampleDigest returns a well-formed sha256 digest whose hex is `seed` repeated. */
export function sampleDigest(seed: string): string {
  return `sha256:${seed.repeat(64).slice(0, 64)}`;
}

/** errorCode returns the errdefs code a promise rejects with (`NOT_FOUND` …), or `OK`. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return codeOf(err);
  }
  return 'OK';
}

/** errorOf returns the error a promise rejects with, or throws when it resolves. */
export async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}
