import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnknownError } from '@ctrd/errdefs';
import type { CgroupLocation } from './cgroup-paths.js';

/**
 * Freezer is the cgroup that `runc pause` and `runc resume` freeze and thaw: the v1 freezer
 * controller's directory, or the v2 cgroup's own. runc keeps no state of its own for a pause (it
 * reads the freezer back to answer `runc state`), so writing these files is what those two
 * commands do, without a runc process (about 10 ms each here) around the write.
 */
export interface Freezer {
  version: 1 | 2;
  dir: string;
}

/** CgroupFiles reads and writes cgroup control files; tests script one. */
export interface CgroupFiles {
  read(path: string): string;
  write(path: string, data: string): void;
}

/**
 * Synchronous on purpose: a control file answers from the kernel at once, and a thread-pool round
 * trip per write and read would cost more than the freeze.
 */
export const cgroupFiles: CgroupFiles = {
  read: (path) => readFileSync(path, 'utf8'),
  write: (path, data) => writeFileSync(path, data),
};

/** freezerOf picks the freezer of a task's cgroup; undefined when v1 has no freezer controller. */
export function freezerOf(cg: CgroupLocation | undefined): Freezer | undefined {
  if (cg === undefined) return undefined;
  if (cg.version === 2) return { version: 2, dir: cg.dir };
  const dir = cg.dirs.freezer;
  return dir === undefined ? undefined : { version: 1, dir };
}

/** FreezeTuning bounds the retries; tests shrink it. */
export interface FreezeTuning {
  /** writes of FROZEN (v1) or reads of `cgroup.events` (v2) before giving up: 1000. */
  attempts: number;
  /** v1: every this many writes, thaw and wait `backoffMs` so that forking processes settle: 50. */
  thawEvery: number;
  /** ms to wait after a thaw (v1) or between reads (v2): 10. */
  backoffMs: number;
}

const DEFAULT_TUNING: FreezeTuning = { attempts: 1000, thawEvery: 50, backoffMs: 10 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * freeze freezes every process of the cgroup and returns once the kernel reports it frozen.
 *
 * cgroup v1 can stay in FREEZING while processes keep forking into the cgroup: FROZEN is written
 * again until the state reads FROZEN, with a thaw and a pause every `thawEvery` writes, as runc
 * does. On failure the cgroup is thawed rather than left half frozen.
 */
export async function freeze(f: Freezer, files: CgroupFiles = cgroupFiles, tuning: FreezeTuning = DEFAULT_TUNING): Promise<void> {
  try {
    if (f.version === 1) await freezeV1(f.dir, files, tuning);
    else await freezeV2(f.dir, files, tuning);
  } catch (err) {
    try {
      thawNow(f, files);
    } catch {
      // The cgroup may be gone with its processes; the first error is the one to report.
    }
    throw err;
  }
}

/** thaw lets the cgroup's processes run again. */
export async function thaw(f: Freezer, files: CgroupFiles = cgroupFiles, tuning: FreezeTuning = DEFAULT_TUNING): Promise<void> {
  thawNow(f, files);
  if (f.version === 2) await waitV2(f.dir, false, files, tuning);
}

function thawNow(f: Freezer, files: CgroupFiles): void {
  if (f.version === 1) files.write(join(f.dir, 'freezer.state'), 'THAWED');
  else files.write(join(f.dir, 'cgroup.freeze'), '0');
}

async function freezeV1(dir: string, files: CgroupFiles, t: FreezeTuning): Promise<void> {
  const state = join(dir, 'freezer.state');
  for (let i = 1; i <= t.attempts; i++) {
    files.write(state, 'FROZEN');
    const now = files.read(state).trim();
    if (now === 'FROZEN') return;
    if (now !== 'FREEZING') throw new UnknownError(`freezer ${dir}: state ${now} after writing FROZEN`);
    if (i % t.thawEvery === 0) {
      files.write(state, 'THAWED');
      await sleep(t.backoffMs);
    } else if (i % 25 === 0) {
      // Let the processes being frozen, and the rest of this server, run for a moment.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  throw new UnknownError(`freezer ${dir}: still FREEZING after ${t.attempts} attempts, unable to freeze`);
}

async function freezeV2(dir: string, files: CgroupFiles, t: FreezeTuning): Promise<void> {
  files.write(join(dir, 'cgroup.freeze'), '1');
  await waitV2(dir, true, files, t);
}

/** waitV2 polls `cgroup.events` until its `frozen` key says `frozen`. */
async function waitV2(dir: string, frozen: boolean, files: CgroupFiles, t: FreezeTuning): Promise<void> {
  const want = frozen ? '1' : '0';
  for (let i = 1; i <= t.attempts; i++) {
    const line = /^frozen (\d)$/m.exec(files.read(join(dir, 'cgroup.events')));
    // A kernel without the key (before 5.2) has no v2 freezer at all; the write above failed first.
    if (line === null || line[1] === want) return;
    await sleep(t.backoffMs);
  }
  throw new UnknownError(`cgroup ${dir}: not ${frozen ? 'frozen' : 'thawed'} after ${t.attempts * t.backoffMs} ms`);
}
