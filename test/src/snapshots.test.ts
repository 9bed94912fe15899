import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestDaemon, missingTool, notRoot, run, type RunResult, NO_AUTO_GC } from './harness.js';

const skip = missingTool('ctr') ?? notRoot();

interface LoopBtrfs {
  mnt: string;
  device: string;
}

// A small btrfs on a loop device, so the btrfs snapshotter has somewhere to live.
function makeBtrfs(dir: string): { fs?: LoopBtrfs; reason?: string } {
  const absent = missingTool('mkfs.btrfs', 'losetup');
  if (absent) return { reason: absent };
  const image = join(dir, 'btrfs.img');
  const mnt = join(dir, 'btrfs');
  mkdirSync(mnt);
  let device = '';
  try {
    writeFileSync(image, '');
    truncateSync(image, 256 * 1024 * 1024);
    execFileSync('mkfs.btrfs', ['-q', image], { stdio: 'pipe' });
    device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    execFileSync('mount', ['-t', 'btrfs', device, mnt], { stdio: 'pipe' });
    return { fs: { mnt, device } };
  } catch (err) {
    if (device) run('losetup', ['-d', device]);
    return { reason: `cannot make a loop-device btrfs: ${(err as Error).message.split('\n')[0]}` };
  }
}

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** rows splits ctr's table output into trimmed, whitespace-separated cells, header dropped. */
function rows(out: string): string[][] {
  return out.trim().split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/));
}

describe('ctr snapshots against ctrd', { skip: skip ?? false }, () => {
  let d: TestDaemon;
  let scratch = '';
  let btrfs: { fs?: LoopBtrfs; reason?: string } = {};

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'ctrd-snapshots-test-'));
    btrfs = makeBtrfs(scratch);
    const toml = btrfs.fs ? `[plugins."io.containerd.snapshotter.v1.btrfs"]\nroot_path = ${JSON.stringify(join(btrfs.fs.mnt, 'sn'))}\n` : '';
    // `ctr snapshots view` makes a snapshot no GC root holds: a collection that a removal or
    // label change scheduled could take it mid-flow.
    d = await TestDaemon.start({ toml: toml + NO_AUTO_GC });
  });

  after(async () => {
    await d?.dispose();
    if (btrfs.fs) {
      run('umount', ['-l', btrfs.fs.mnt]);
      run('losetup', ['-d', btrfs.fs.device]);
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  const pluginStatus = (id: string): string => {
    const line = ok(d.ctr(['plugins', 'ls']), 'plugins ls').split('\n').find((l) => /io\.containerd\.snapshotter\.v1/.test(l) && l.split(/\s+/)[1] === id);
    return line?.trim().split(/\s+/).at(-1) ?? 'absent';
  };

  /** withMounted mounts what `ctr snapshots mounts` prints for `key`, runs `fn` on it and unmounts. */
  const withMounted = (sn: string, key: string, fn: (dir: string) => void): void => {
    const target = mkdtempSync(join(scratch, 'mnt-'));
    const cmd = ok(d.ctr(['snapshots', '--snapshotter', sn, 'mounts', target, key]), 'mounts').trim();
    assert.match(cmd, new RegExp(`^mount -t \\S+ \\S+ ${target}`));
    ok(run('sh', ['-c', cmd]), 'mount');
    try {
      fn(target);
    } finally {
      run('umount', [target]);
      rmSync(target, { recursive: true, force: true });
    }
  };

  function basicFlow(sn: string): void {
    const ctr = (...args: string[]) => d.ctr(['snapshots', '--snapshotter', sn, ...args]);
    ok(ctr('prepare', 'k1'), 'prepare');
    assert.deepEqual(rows(ok(ctr('ls'), 'ls')), [['k1', 'Active']]);
    withMounted(sn, 'k1', (dir) => writeFileSync(join(dir, 'hello.txt'), `hello from ${sn}\n`));
    ok(ctr('commit', 'c1', 'k1'), 'commit');
    ok(ctr('view', 'v1', 'c1'), 'view');
    withMounted(sn, 'v1', (dir) => assert.equal(readFileSync(join(dir, 'hello.txt'), 'utf8'), `hello from ${sn}\n`));
    assert.deepEqual(rows(ok(ctr('ls'), 'ls')).sort(), [['c1', 'Committed'], ['v1', 'c1', 'View']]);

    const info = JSON.parse(ok(ctr('info', 'c1'), 'info')) as { Kind: string; Name: string; Parent?: string; Labels: Record<string, string> };
    assert.equal(info.Kind, 'Committed');
    assert.equal(info.Name, 'c1');
    assert.ok(info.Labels['containerd.io/gc.root'], 'ctr labels committed snapshots as GC roots');
    assert.equal(JSON.parse(ok(ctr('info', 'v1'), 'info v1')).Parent, 'c1');

    assert.match(ok(ctr('label', 'c1', 'team=storage'), 'label'), /team=storage/);
    assert.equal(JSON.parse(ok(ctr('info', 'c1'), 'info')).Labels.team, 'storage');
    ok(ctr('label', 'c1', 'team='), 'unlabel');
    assert.equal(JSON.parse(ok(ctr('info', 'c1'), 'info')).Labels.team, undefined);

    const tree = ok(ctr('tree'), 'tree');
    assert.match(tree, /^\s*c1$/m);
    assert.match(tree, /\\_ v1$/m);
    const usage = rows(ok(ctr('usage'), 'usage'));
    assert.ok(usage.some((r) => r[0] === 'c1'), `usage lists c1: ${JSON.stringify(usage)}`);
    assert.match(ok(ctr('usage', 'c1'), 'usage c1'), /^c1\s+\S+/m);

    const rm = ctr('rm', 'c1');
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /cannot remove snapshot with child: failed precondition/);
    ok(ctr('rm', 'v1'), 'rm v1');
    ok(ctr('rm', 'c1'), 'rm c1');
    assert.deepEqual(rows(ok(ctr('ls'), 'ls')), []);
    assert.match(ctr('info', 'c1').stderr, /snapshot c1 does not exist: not found/);
  }

  test('native: prepare, ls, mounts, commit, view, info, label, tree, usage, rm', () => basicFlow('native'));

  test('overlayfs: the same flow', (t) => {
    const status = pluginStatus('overlayfs');
    if (status !== 'ok') return t.skip(`overlayfs plugin is ${status}`);
    basicFlow('overlayfs');
  });

  test('btrfs: the same flow', (t) => {
    if (!btrfs.fs) return t.skip(btrfs.reason ?? 'no btrfs');
    const status = pluginStatus('btrfs');
    if (status !== 'ok') return t.skip(`btrfs plugin is ${status}`);
    basicFlow('btrfs');
  });

  test('snapshots are per namespace and per snapshotter; a bad snapshotter is refused', () => {
    ok(d.ctr(['snapshots', '--snapshotter', 'native', 'prepare', 'shared-key'], { namespace: 'ns1' }), 'prepare ns1');
    assert.deepEqual(rows(ok(d.ctr(['snapshots', '--snapshotter', 'native', 'ls'], { namespace: 'ns2' }), 'ls ns2')), []);
    ok(d.ctr(['snapshots', '--snapshotter', 'native', 'prepare', 'shared-key'], { namespace: 'ns2' }), 'prepare ns2');
    const dup = d.ctr(['snapshots', '--snapshotter', 'native', 'prepare', 'shared-key'], { namespace: 'ns1' });
    assert.match(dup.stderr, /snapshot "shared-key": already exists/);
    const bad = d.ctr(['snapshots', '--snapshotter', 'zfs', 'ls']);
    assert.match(bad.stderr, /snapshotter not loaded: zfs: invalid argument/);
  });
});
