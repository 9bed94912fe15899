/**
 * `@ctrd/snapshots/testsuite` is the conformance suite every snapshotter runs (native,
 * overlayfs, btrfs, the metadata-wrapped snapshotter, the gRPC proxy), modelled on containerd's.
 * Call `snapshotterSuite(name, factory)` at the top level of a `*.test.ts` file. Each case gets
 * an empty temporary directory with `root` (for the factory) and `work` (for mount points); after
 * it, the snapshotter is closed, the fixture cleaned up, and the case fails if any mount is left
 * under the directory. Cases that mount are skipped with the reason when not running as root.
 *
 * @packageDocumentation
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { mountsUnder, unmountAll } from '@ctrd/mount';
import { apiCases } from './api-cases.js';
import { basicCases } from './basic-cases.js';
import type { SuiteCase, SuiteFactory, SuiteOptions } from './harness.js';
import { layerCases, LAYER_COUNT } from './layer-cases.js';

export type { SuiteCase, SuiteFactory, SuiteFixture, SuiteOptions, CaseEnv } from './harness.js';
export { GC_ROOT, checkLayers, createLayer, withMounted, rejectsWith } from './harness.js';
export * as fstest from './fstest.js';
export { LAYER_COUNT } from './layer-cases.js';

/** SNAPSHOTTER_SUITE_CASES lists every case of snapshotterSuite, in run order. */
export const SNAPSHOTTER_SUITE_CASES: readonly SuiteCase[] = [...basicCases, ...apiCases, ...layerCases];

const isRoot = process.getuid?.() === 0;

async function runCase(name: string, c: SuiteCase, factory: SuiteFactory, opts: SuiteOptions, t: import('node:test').TestContext): Promise<void> {
  const reason = opts.skip?.();
  if (reason !== undefined) {
    t.skip(reason);
    return;
  }
  if (c.mounts && !isRoot) {
    t.skip('mounting needs root');
    return;
  }
  const base = await mkdtemp(join(opts.tempDir?.() ?? tmpdir(), `snapshot-suite-${name}-`));
  const root = join(base, 'root');
  const work = join(base, 'work');
  await mkdir(root, { recursive: true });
  await mkdir(work, { recursive: true });
  let failure: unknown;
  try {
    const fx = await factory(root);
    try {
      await c.run({ sn: fx.snapshotter, work, t, layerCount: opts.layerCount ?? LAYER_COUNT });
    } catch (err) {
      failure = err;
    } finally {
      await fx.snapshotter.close();
      await fx.cleanup?.();
    }
  } catch (err) {
    failure ??= err;
  }
  const left = mountsUnder(base);
  for (const m of left) await unmountAll(m, { detach: true });
  await rm(base, { recursive: true, force: true });
  if (failure !== undefined) throw failure;
  assert.deepEqual(left, [], 'mounts left behind by the case');
}

/**
 * snapshotterSuite registers the conformance cases under `describe("snapshotter suite: <name>")`.
 * `factory` builds a fresh snapshotter on the empty `root` it is given (a backend that needs a
 * particular filesystem may place itself elsewhere); `opts.skip` skips every case with a reason.
 */
export function snapshotterSuite(name: string, factory: SuiteFactory, opts: SuiteOptions = {}): void {
  describe(`snapshotter suite: ${name}`, () => {
    for (const c of SNAPSHOTTER_SUITE_CASES) {
      const depth = c.name === '128LayersMount' && opts.layerCount !== undefined && opts.layerCount !== LAYER_COUNT ? ` (${opts.layerCount} layers)` : '';
      test(c.name + depth, (t) => runCase(name, c, factory, opts, t));
    }
  });
}
