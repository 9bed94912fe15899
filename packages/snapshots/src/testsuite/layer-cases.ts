import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apply, checkDirectoryEqual, chown, createDir, createFile, link, removeAll, rename } from './fstest.js';
import { GC_ROOT, type SuiteCase, checkLayers, mountAt, unmountAt, withMounted } from './harness.js';

const layerFileUpdate: SuiteCase = {
  name: 'LayerFileUpdate',
  mounts: true,
  async run({ sn, work }) {
    const l1 = apply(
      createDir('/etc', 0o700),
      createFile('/etc/hosts', 'mydomain 10.0.0.1', 0o644),
      createFile('/etc/profile', 'PATH=/usr/bin', 0o644),
    );
    const l2 = apply(
      createFile('/etc/hosts', 'mydomain 10.0.0.2', 0o644),
      createFile('/etc/profile', 'PATH=/usr/bin', 0o666),
      createDir('/root', 0o700),
      createFile('/root/.bashrc', 'PATH=/usr/sbin:/usr/bin', 0o644),
    );
    // Repeated across second boundaries: a backend keyed on mtime would miss same-size rewrites.
    for (let i = 0; i < 3; i++) {
      await checkLayers(sn, work, l1, l2);
      await sleep(1000 - (Date.now() % 1000) + 1);
    }
  },
};

const removeDirectoryInLowerLayer: SuiteCase = {
  name: 'RemoveDirectoryInLowerLayer',
  mounts: true,
  async run({ sn, work }) {
    await checkLayers(
      sn,
      work,
      apply(createDir('/lib', 0o700), createFile('/lib/hidden', '', 0o644)),
      apply(removeAll('/lib'), createDir('/lib', 0o700), createFile('/lib/not-hidden', '', 0o644)),
      apply(createFile('/lib/newfile', '', 0o644)),
    );
  },
};

const chownCase: SuiteCase = {
  name: 'Chown',
  mounts: true,
  async run({ sn, work }) {
    await checkLayers(
      sn,
      work,
      apply(
        createDir('/opt', 0o700),
        createDir('/opt/a', 0o700),
        createDir('/opt/a/b', 0o700),
        createFile('/opt/a/b/file.txt', 'hello', 0o644),
      ),
      apply(chown('/opt', 1, 1), chown('/opt/a', 1, 1), chown('/opt/a/b', 1, 1), chown('/opt/a/b/file.txt', 1, 1)),
    );
  },
};

const directoryPermissionOnCommit: SuiteCase = {
  name: 'DirectoryPermissionOnCommit',
  mounts: true,
  async run({ sn, work }) {
    await checkLayers(
      sn,
      work,
      apply(
        createDir('/dir1', 0o700),
        createDir('/dir2', 0o700),
        createDir('/dir3', 0o700),
        createDir('/dir4', 0o700),
        createFile('/dir4/f1', '...', 0o644),
        createDir('/dir5', 0o700),
        createFile('/dir5/f1', '...', 0o644),
        chown('/dir1', 1, 1),
        chown('/dir2', 1, 1),
        chown('/dir3', 1, 1),
        chown('/dir5', 1, 1),
        chown('/dir5/f1', 1, 1),
      ),
      apply(chown('/dir2', 0, 0), removeAll('/dir3'), chown('/dir4', 1, 1), chown('/dir4/f1', 1, 1)),
      apply(createDir('/dir3', 0o700), chown('/dir3', 1, 1), removeAll('/dir5'), createDir('/dir5', 0o700), chown('/dir5', 1, 1)),
    );
  },
};

const removeIntermediateSnapshot: SuiteCase = {
  name: 'RemoveIntermediateSnapshot',
  mounts: true,
  async run({ sn, work }) {
    const base = join(work, 'base');
    await mountAt(await sn.prepare(base, undefined, GC_ROOT), base);
    const committedBase = join(work, 'committed-base');
    try {
      await sn.commit(committedBase, base, GC_ROOT);
      const intermediate = join(work, 'intermediate');
      await sn.prepare(intermediate, committedBase, GC_ROOT);
      const committedInter = join(work, 'committed-inter');
      await sn.commit(committedInter, intermediate, GC_ROOT);
      const top = join(work, 'toplayer');
      await sn.prepare(top, committedInter, GC_ROOT);
      await rejectsRemove(sn.remove(committedInter));
      await sn.remove(top);
      await sn.remove(committedInter);
    } finally {
      await unmountAt(base);
    }
    await sn.remove(committedBase);
  },
};

async function rejectsRemove(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch {
    return;
  }
  throw new Error('intermediate layer removal should fail');
}

const deletedFilesInChild: SuiteCase = {
  name: 'DeletedFilesInChildSnapshot',
  mounts: true,
  async run({ sn, work }) {
    await checkLayers(
      sn,
      work,
      apply(createFile('/foo', 'foo\n', 0o777), createFile('/foobar', 'foobar\n', 0o777)),
      apply(removeAll('/foobar')),
      apply(),
    );
  },
};

const moveFileFromLowerLayer: SuiteCase = {
  name: 'MoveFileFromLowerLayer',
  mounts: true,
  async run({ sn, work }) {
    await checkLayers(
      sn,
      work,
      apply(createDir('/dir1', 0o700), createFile('/dir1/f1', 'Hello', 0o644), createDir('dir2', 0o700), createFile('dir2/f2', '...', 0o644)),
      apply(
        createDir('/dir3', 0o700),
        createFile('/dir3/f1', 'Hello', 0o644),
        removeAll('/dir1'),
        link('dir2/f2', 'dir3/f2'),
        removeAll('dir2/f2'),
      ),
    );
  },
};

const renameCase: SuiteCase = {
  name: 'Rename',
  mounts: true,
  async run({ sn, work, t }) {
    try {
      await checkLayers(
        sn,
        work,
        apply(
          createDir('/dir1', 0o700),
          createDir('/somefiles', 0o700),
          createFile('/somefiles/f1', 'was here first!', 0o644),
          createFile('/somefiles/f2', 'nothing interesting', 0o644),
        ),
        apply(
          rename('/dir1', '/dir2'),
          createFile('/somefiles/f1-overwrite', 'new content 1', 0o644),
          rename('/somefiles/f1-overwrite', '/somefiles/f1'),
          rename('/somefiles/f2', '/somefiles/f3'),
        ),
      );
    } catch (err) {
      // overlayfs without redirect_dir refuses to rename a directory from a lower layer;
      // tools then copy instead, which is outside what a snapshotter controls.
      if (hasCode(err, 'EXDEV')) {
        t.skip('rename(2) of a lower-layer directory gives EXDEV on this overlay (redirect_dir off)');
        return;
      }
      throw err;
    }
  },
};

/** LAYER_COUNT is the depth of the deep-stack case, as in containerd's suite. */
export const LAYER_COUNT = 128;

const layers128: SuiteCase = {
  name: '128LayersMount',
  mounts: true,
  async run({ sn, work, t, layerCount }) {
    const appliers = [
      apply(
        createFile('/bottom', 'way at the bottom\n', 0o777),
        createFile('/overwriteme', 'FIRST!\n', 0o777),
        createDir('/ADDHERE', 0o755),
        createDir('/ONLYME', 0o755),
        createFile('/ONLYME/bottom', 'bye!\n', 0o777),
      ),
    ];
    for (let i = 1; i < layerCount; i++) {
      appliers.push(
        apply(
          createFile('/overwriteme', `${i} WAS HERE!\n`, 0o777),
          createFile(`/ADDHERE/file-${i}`, 'same\n', 0o755),
          removeAll('/ONLYME'),
          createDir('/ONLYME', 0o755),
          createFile(`/ONLYME/file-${i}`, 'only me!\n', 0o777),
        ),
      );
    }
    const flat = join(work, 'flat');
    await mkdir(flat, { recursive: true });
    const started = performance.now();
    let parent: string | undefined;
    for (const [i, a] of appliers.entries()) {
      const preparing = join(work, `prepare-layer-${i}`);
      await mountAt(await sn.prepare(preparing, parent, GC_ROOT), preparing);
      try {
        await checkDirectoryEqual(flat, preparing).catch(rethrow(`[layer ${i}] before apply`));
        await a(flat);
        await a(preparing);
        await checkDirectoryEqual(flat, preparing).catch(rethrow(`[layer ${i}] after apply`));
      } finally {
        await unmountAt(preparing);
      }
      await rm(preparing, { recursive: true, force: true });
      parent = join(work, `committed-${i}`);
      await sn.commit(parent, preparing, GC_ROOT);
    }
    const mounts = await sn.view(join(work, 'fullview'), parent, GC_ROOT);
    await withMounted(mounts, work, 'fullview', (dir) => checkDirectoryEqual(flat, dir));
    t.diagnostic(`${layerCount} layers prepared, checked and committed in ${Math.round(performance.now() - started)} ms`);
  },
};

function hasCode(err: unknown, code: string): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === code) return true;
  }
  return false;
}

function rethrow(what: string): (err: unknown) => never {
  return (err) => {
    throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
  };
}

/** layerCases stack real layers through mounts and compare them with plain directories. */
export const layerCases: readonly SuiteCase[] = [
  layerFileUpdate,
  removeDirectoryInLowerLayer,
  chownCase,
  directoryPermissionOnCommit,
  removeIntermediateSnapshot,
  deletedFilesInChild,
  moveFileFromLowerLayer,
  renameCase,
  layers128,
];
