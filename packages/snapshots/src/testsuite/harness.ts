import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { codeOf, type ErrorCode } from '@ctrd/errdefs';
import { type Mount, mountAll, unmountAll } from '@ctrd/mount';
import type { Snapshotter } from '../snapshotter.js';
import { type Applier, checkDirectoryEqual } from './fstest.js';

/** SuiteFixture is what a factory returns for one case: a fresh snapshotter and its cleanup. */
export interface SuiteFixture {
  snapshotter: Snapshotter;
  /** Called after the snapshotter is closed; removes whatever the factory set up. */
  cleanup?(): Promise<void>;
}

/** SuiteFactory builds a snapshotter rooted at `root`, an empty directory of its own. */
export type SuiteFactory = (root: string) => Promise<SuiteFixture>;

/** SuiteOptions tunes snapshotterSuite for one backend. */
export interface SuiteOptions {
  /** Returns a reason to skip every case (the backend cannot run here), or undefined. */
  skip?: () => string | undefined;
  /** Where each case's temporary directory is made (default: the OS temp dir). */
  tempDir?: () => string;
  /**
   * The depth of the deep-stack case (default {@link LAYER_COUNT}, containerd's 128). A run whose
   * point is a transport (a gRPC proxy, a daemon in between) over a backend that passes the full
   * depth on its own may stack fewer; the case's title says how many.
   */
  layerCount?: number;
}

/** CaseEnv is what a case receives: the snapshotter and a scratch directory for mount points. */
export interface CaseEnv {
  sn: Snapshotter;
  work: string;
  t: TestContext;
  /** the depth of the deep-stack case. */
  layerCount: number;
}

/** SuiteCase is one conformance case; `mounts` marks cases that mount and so need root. */
export interface SuiteCase {
  name: string;
  mounts: boolean;
  run(env: CaseEnv): Promise<void>;
}

/** GC_ROOT labels every test snapshot the way containerd's suite does. */
export const GC_ROOT = { labels: { 'containerd.io/gc.root': new Date().toISOString() } };

/** mountAt mounts `mounts` on `dir`, creating it. */
export async function mountAt(mounts: Mount[], dir: string): Promise<void> {
  assert.ok(mounts.length >= 1, 'expected mounts to have entries');
  await mkdir(dir, { recursive: true });
  await mountAll(mounts, dir);
}

/** unmountAt lazily unmounts everything on `dir`. */
export async function unmountAt(dir: string): Promise<void> {
  await unmountAll(dir, { detach: true });
}

/** withMounted mounts on a fresh directory under `work`, runs `fn` and always unmounts. */
export async function withMounted<T>(mounts: Mount[], work: string, prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(work, prefix));
  try {
    await mountAt(mounts, dir);
    try {
      return await fn(dir);
    } finally {
      await unmountAt(dir);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let counter = 0;

/** createLayer prepares a snapshot on `parent`, applies `a` through its mounts and commits it. */
export async function createLayer(sn: Snapshotter, parent: string | undefined, work: string, a: Applier): Promise<string> {
  const name = `layer-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const key = `${name}-prepare`;
  const mounts = await sn.prepare(key, parent, GC_ROOT);
  await withMounted(mounts, work, 'prepare', a);
  await sn.commit(name, key, GC_ROOT);
  return name;
}

/** checkLayer opens a view of `name` and compares it with the tree at `expected`. */
export async function checkLayer(sn: Snapshotter, work: string, name: string, expected: string): Promise<void> {
  const view = `${name}-view`;
  const mounts = await sn.view(view, name, GC_ROOT);
  try {
    await withMounted(mounts, work, 'check', (dir) => checkDirectoryEqual(expected, dir));
  } finally {
    await sn.remove(view);
  }
}

/**
 * checkLayers stacks one committed layer per applier and checks after each that a view of the
 * stack equals a plain directory the same appliers were run on.
 */
export async function checkLayers(sn: Snapshotter, work: string, ...appliers: Applier[]): Promise<void> {
  const flat = await mkdtemp(join(work, 'flat'));
  try {
    let parent: string | undefined;
    for (const [i, a] of appliers.entries()) {
      const name = await createLayer(sn, parent, work, a);
      await a(flat);
      await checkLayer(sn, work, name, flat).catch((err: unknown) => {
        throw new Error(`layer ${i + 1}: ${(err as Error).message}`, { cause: err });
      });
      parent = name;
    }
  } finally {
    await rm(flat, { recursive: true, force: true });
  }
}

/** rejectsWith asserts that `p` rejects with an errdefs error of class `code`. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode, what: string): Promise<Error> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `${what}: expected ${code}, but it succeeded`);
  assert.equal(codeOf(caught), code, `${what}: expected ${code}, got ${String(caught)}`);
  return caught as Error;
}
