import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isFailedPrecondition, isNotFound } from '@ctrd/errdefs';
import { mount, mountsUnder, unmountAll } from '@ctrd/mount';
import { Kind } from '@ctrd/snapshots';
import { snapshotterSuite } from '@ctrd/snapshots/testsuite';
import { createBtrfsSnapshotter } from './btrfs-snapshotter.js';
import { subvolSnapshot } from './btrfs-ioctl.js';

interface LoopFs {
  dir: string;
  mnt: string;
  device: string;
}

function tool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// A 256 MiB btrfs on a loop device, made once for the whole file and removed in after().
function setUp(): { fs?: LoopFs; reason?: string } {
  if (process.getuid?.() !== 0) return { reason: 'loop devices and mounts need root' };
  if (!tool('mkfs.btrfs')) return { reason: 'mkfs.btrfs not installed (btrfs-progs)' };
  if (!tool('losetup')) return { reason: 'losetup not installed' };
  const dir = mkdtempSync(join(tmpdir(), 'btrfs-loop-'));
  const image = join(dir, 'image');
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  let device = '';
  try {
    writeFileSync(image, '');
    truncateSync(image, 256 * 1024 * 1024);
    execFileSync('mkfs.btrfs', ['-q', image], { stdio: 'pipe' });
    device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    mount({ type: 'btrfs', source: device, options: [] }, mnt);
    return { fs: { dir, mnt, device } };
  } catch (err) {
    if (device !== '') execFileSync('losetup', ['-d', device], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    return { reason: `cannot make a loop-device btrfs: ${(err as Error).message.split('\n')[0]}` };
  }
}

const { fs: loop, reason } = setUp();

after(async () => {
  if (loop === undefined) return;
  const left = mountsUnder(loop.mnt).filter((m) => m !== loop.mnt);
  for (const m of left) await unmountAll(m, { detach: true });
  await unmountAll(loop.mnt);
  execFileSync('losetup', ['-d', loop.device]);
  rmSync(loop.dir, { recursive: true, force: true });
  assert.deepEqual(left, [], 'mounts left on the btrfs');
  assert.equal(existsSync(loop.dir), false);
});

snapshotterSuite(
  'btrfs',
  async () => {
    // Every case gets its own directory on the shared loop filesystem.
    const root = await mkdtemp(join(loop!.mnt, 'case-'));
    return { snapshotter: await createBtrfsSnapshotter(root) };
  },
  { skip: () => reason },
);

describe('btrfs specifics', () => {
  test('a root that is not on btrfs is refused with the reason', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'not-btrfs-'));
    try {
      const fstype = execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
      if (fstype === 'btrfs') {
        t.skip('the temp directory is itself on btrfs');
        return;
      }
      await assert.rejects(createBtrfsSnapshotter(join(dir, 'root')), (err: unknown) => {
        assert.ok(isFailedPrecondition(err));
        assert.match((err as Error).message, /must be a btrfs filesystem/);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mounts name the device and the subvolume id; views are read-only', { skip: reason ?? false }, async () => {
    const sn = await createBtrfsSnapshotter(await mkdtemp(join(loop!.mnt, 'specific-')));
    try {
      const [a] = await sn.prepare('a');
      assert.equal(a!.type, 'btrfs');
      assert.equal(a!.source, loop!.device);
      assert.match(a!.options[0]!, /^subvolid=\d+$/);
      assert.equal(a!.options.includes('ro'), false);
      await sn.commit('c', 'a');
      const [v] = await sn.view('v', 'c');
      assert.ok(v!.options.includes('ro'));
      assert.notEqual(v!.options[0], a!.options[0]);
      await sn.remove('v');
      await sn.remove('c');
    } finally {
      await sn.close();
    }
  });

  test('a remove killed between moving the subvolume aside and dropping the record is finished by the next remove', { skip: reason ?? false }, async () => {
    const root = await mkdtemp(join(loop!.mnt, 'remove-killed-'));
    let sn = await createBtrfsSnapshotter(root);
    await sn.prepare('a');
    await sn.close();
    // What the killed remove left: the subvolume renamed to rm-<id>, the record still there.
    const [id] = readdirSync(join(root, 'active'));
    renameSync(join(root, 'active', id!), join(root, 'active', `rm-${id}`));
    sn = await createBtrfsSnapshotter(root);
    try {
      await sn.remove('a');
      await assert.rejects(sn.stat('a'), (err: unknown) => isNotFound(err));
      assert.deepEqual(readdirSync(join(root, 'active')), []);
    } finally {
      await sn.close();
    }
  });

  test('cleanup deletes the subvolumes kills left without a record and keeps every live one', { skip: reason ?? false }, async () => {
    const root = await mkdtemp(join(loop!.mnt, 'cleanup-'));
    const sn = await createBtrfsSnapshotter(root);
    try {
      await sn.prepare('a');
      await sn.commit('base', 'a');
      await sn.prepare('b', 'base');
      await sn.view('v', 'base');
      const live = Object.fromEntries(['active', 'view', 'snapshots'].map((d) => [d, readdirSync(join(root, d)).sort()]));
      // Leftovers: a subvolume made before its record (an ID never handed out), the active
      // subvolume of a snapshot since committed, and a removed snapshot moved aside.
      const [committed] = live.snapshots!;
      await subvolSnapshot(join(root, 'active', '9999'), join(root, 'snapshots', committed!), false);
      await subvolSnapshot(join(root, 'active', committed!), join(root, 'snapshots', committed!), false);
      await subvolSnapshot(join(root, 'view', `rm-${committed}`), join(root, 'snapshots', committed!), true);
      await sn.cleanup!();
      for (const d of ['active', 'view', 'snapshots']) assert.deepEqual(readdirSync(join(root, d)).sort(), live[d], d);
      assert.deepEqual((await sn.mounts('b'))[0]!.type, 'btrfs');
      await sn.remove('b');
      await sn.remove('v');
      await sn.remove('base');
    } finally {
      await sn.close();
    }
  });

  test('a cleanup running beside commits and removes leaves them all succeeding', { skip: reason ?? false }, async () => {
    const root = await mkdtemp(join(loop!.mnt, 'cleanup-race-'));
    const sn = await createBtrfsSnapshotter(root);
    try {
      for (let i = 0; i < 10; i++) {
        await sn.prepare(`a${i}`);
        await Promise.all([sn.commit(`c${i}`, `a${i}`), sn.cleanup!()]);
        await Promise.all([sn.remove(`c${i}`), sn.cleanup!()]);
      }
      for (const d of ['active', 'view', 'snapshots']) assert.deepEqual(readdirSync(join(root, d)), [], d);
    } finally {
      await sn.close();
    }
  });

  test('a commit killed between snapshotting the subvolume and writing the record can be retried', { skip: reason ?? false }, async () => {
    const root = await mkdtemp(join(loop!.mnt, 'commit-killed-'));
    let sn = await createBtrfsSnapshotter(root);
    await sn.prepare('a');
    await sn.close();
    // What the killed commit left: a read-only snapshots/<id>, the record still Active.
    const [id] = readdirSync(join(root, 'active'));
    writeFileSync(join(root, 'active', id!, 'f'), 'before the kill');
    await subvolSnapshot(join(root, 'snapshots', id!), join(root, 'active', id!), true);
    writeFileSync(join(root, 'active', id!, 'g'), 'after the restart');
    sn = await createBtrfsSnapshotter(root);
    try {
      await sn.commit('c', 'a');
      assert.equal((await sn.stat('c')).kind, Kind.Committed);
      assert.deepEqual(readdirSync(join(root, 'snapshots', id!)).sort(), ['f', 'g']);
      assert.deepEqual(readdirSync(join(root, 'active')), []);
    } finally {
      await sn.close();
    }
  });
});
