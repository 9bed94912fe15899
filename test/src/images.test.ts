import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { createLocalStore } from '@ctrd/content-local';
import {
  baseEntries,
  buildBusyboxImage,
  changeEntries,
  findBusybox,
  topEntries,
  writeDockerArchive,
  writeOciArchive,
  type FixtureEntry,
  type FixtureImage,
} from '@ctrd/images/fixtures';
import { hostPlatform, type Platform } from '@ctrd/remotes';
import { TestDaemon, missingTool, notRoot, run, type RunResult } from './harness.js';

const busybox = (() => {
  try {
    return findBusybox();
  } catch {
    return undefined;
  }
})();
const skip = missingTool('ctr', 'tar') ?? notRoot() ?? (busybox ? undefined : 'busybox-static not installed');

const ok = (r: RunResult): string => {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};

/** Expected is a path's expected kind and content in a mounted image. */
type Expected = { type: 'directory' } | { type: 'file'; data: Buffer; mode: number } | { type: 'symlink'; target: string };

/** expectedTree applies fixture layers the way an overlay stack would, whiteouts included. */
function expectedTree(layers: FixtureEntry[][]): Map<string, Expected> {
  const tree = new Map<string, Expected>();
  const removeUnder = (dir: string, self: boolean): void => {
    for (const k of [...tree.keys()]) if (k.startsWith(`${dir}/`) || (self && k === dir)) tree.delete(k);
  };
  for (const layer of layers) {
    for (const e of layer) {
      for (let d = posix.dirname(e.name); d !== '.'; d = posix.dirname(d)) if (!tree.has(d)) tree.set(d, { type: 'directory' });
      const base = posix.basename(e.name);
      const dir = posix.dirname(e.name);
      if (base === '.wh..wh..opq') removeUnder(dir, false);
      else if (base.startsWith('.wh.')) removeUnder(dir === '.' ? base.slice(4) : `${dir}/${base.slice(4)}`, true);
      else if (e.type === 'directory') tree.set(e.name, { type: 'directory' });
      else if (e.type === 'symlink') tree.set(e.name, { type: 'symlink', target: e.linkname! });
      else tree.set(e.name, { type: 'file', data: Buffer.from(e.data ?? new Uint8Array(0)), mode: e.mode });
    }
  }
  return tree;
}

async function walk(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(root, rel))).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    out.push(p);
    if ((await lstat(join(root, p))).isDirectory()) out.push(...(await walk(root, p)));
  }
  return out;
}

/** assertTree compares a mounted tree with the expected one: paths, kinds, bytes, modes, link targets. */
async function assertTree(root: string, expected: Map<string, Expected>): Promise<void> {
  assert.deepEqual(await walk(root), [...expected.keys()].sort(compareWalk));
  for (const [p, e] of expected) {
    const st = await lstat(join(root, p));
    if (e.type === 'directory') assert.ok(st.isDirectory(), `${p} is a directory`);
    else if (e.type === 'symlink') assert.equal(await readlink(join(root, p)), e.target, `${p} links to ${e.target}`);
    else {
      assert.ok(st.isFile(), `${p} is a file`);
      assert.equal(st.mode & 0o7777, e.mode, `${p} mode`);
      assert.ok((await readFile(join(root, p))).equals(e.data), `${p} content`);
    }
  }
}

// walk's order: siblings sorted by name, each directory followed by its contents.
function compareWalk(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  return pa.length - pb.length;
}

/** blobsOf extracts an OCI archive and returns its blobs by digest. */
async function blobsOf(archive: string, dir: string): Promise<Map<string, Buffer>> {
  await mkdir(dir, { recursive: true });
  ok(run('tar', ['-xf', archive, '-C', dir]));
  const blobs = new Map<string, Buffer>();
  for (const hex of await readdir(join(dir, 'blobs', 'sha256'))) blobs.set(`sha256:${hex}`, await readFile(join(dir, 'blobs', 'sha256', hex)));
  return blobs;
}

interface Fixture {
  label: string;
  ref: string;
  archive: string;
  image: FixtureImage;
  tree: Map<string, Expected>;
  importArgs: string[];
  /** the archive holds blobs that `ctr images export` should give back unchanged. */
  oci: boolean;
}

describe('image import, unpack, mount and export through ctr', { skip }, () => {
  let d: TestDaemon;
  let work: string;
  const fixtures: Fixture[] = [];
  const host = hostPlatform();
  const other: Platform = { os: 'linux', architecture: host.architecture === 'arm64' ? 'amd64' : 'arm64' };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ctrd-images-'));
    const store = await createLocalStore(join(work, 'store'));
    const single = expectedTree([baseEntries(busybox)]);
    const multi = expectedTree([baseEntries(busybox), changeEntries(), topEntries()]);
    const specs: Array<Omit<Fixture, 'archive' | 'image'> & { build: Parameters<typeof buildBusyboxImage>[1]; docker?: boolean }> = [
      { label: 'single layer', ref: 'docker.io/ctrd/images:single', tree: single, importArgs: [], oci: true, build: { layers: 'single' } },
      { label: 'whiteout and opaque directory', ref: 'docker.io/ctrd/images:multi', tree: multi, importArgs: [], oci: true, build: { layers: 'multi' } },
      { label: 'multi-platform index, all platforms', ref: 'docker.io/ctrd/images:index-all', tree: multi, importArgs: ['--all-platforms'], oci: true, build: { layers: 'multi', platforms: [host, other] } },
      { label: 'multi-platform index, host only', ref: 'docker.io/ctrd/images:index-host', tree: single, importArgs: [], oci: false, build: { layers: 'single', platforms: [host, other] } },
      { label: 'Docker archive', ref: 'docker.io/ctrd/images:docker', tree: multi, importArgs: [], oci: false, build: { layers: 'multi', format: 'docker' }, docker: true },
    ];
    for (const s of specs) {
      const image = await buildBusyboxImage(store, { ...s.build, name: s.ref });
      const archive = join(work, `${s.ref.split(':')[1]}.tar`);
      if (s.docker) await writeDockerArchive(store, image, archive, { tags: [s.ref] });
      else await writeOciArchive(store, image, archive, { name: s.ref });
      fixtures.push({ label: s.label, ref: s.ref, tree: s.tree, importArgs: s.importArgs, oci: s.oci, archive, image });
    }
    d = await TestDaemon.start();
    for (const f of fixtures) ok(d.ctr(['images', 'import', '--snapshotter', 'overlayfs', ...f.importArgs, f.archive]));
  });
  after(async () => {
    await d?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('each import unpacks on overlayfs; images mount shows the expected tree; unmount --rm cleans up', async () => {
    for (const f of fixtures) {
      const target = join(work, `mnt-${f.ref.split(':')[1]}`);
      await mkdir(target, { recursive: true });
      ok(d.ctr(['images', 'mount', '--snapshotter', 'overlayfs', f.ref, target]));
      try {
        await assertTree(target, f.tree);
        if (f.tree.has('etc/fixture/layer3')) {
          await assert.rejects(lstat(join(target, 'etc/fixture/deleted')), { code: 'ENOENT' }, `${f.label}: whiteout hides the file`);
          assert.deepEqual(await readdir(join(target, 'etc/fixture/opaque')), ['new'], `${f.label}: opaque directory`);
        }
      } finally {
        ok(d.ctr(['images', 'unmount', target]));
      }
      assert.equal((await readdir(target)).length, 0, `${f.label}: unmounted`);
      assert.match(ok(d.ctr(['snapshots', '--snapshotter', 'overlayfs', 'ls'])), new RegExp(`^${target}\\s`, 'm'), 'plain unmount keeps the snapshot');
      ok(d.ctr(['images', 'mount', '--snapshotter', 'overlayfs', f.ref, target]));
      ok(d.ctr(['images', 'unmount', '--rm', target]));
      assert.doesNotMatch(ok(d.ctr(['snapshots', '--snapshotter', 'overlayfs', 'ls'])), new RegExp(`^${target}\\s`, 'm'), '--rm removes the snapshot');
      assert.doesNotMatch(ok(d.ctr(['leases', 'ls'])), new RegExp(`^${target}\\s`, 'm'), '--rm removes the lease');
    }
  });

  test('the host-only import of an index leaves out the other platform; --all-platforms keeps it', () => {
    const content = ok(d.ctr(['content', 'ls']));
    const all = fixtures.find((f) => f.importArgs.includes('--all-platforms'))!;
    const hostOnly = fixtures.find((f) => f.label.endsWith('host only'))!;
    for (const m of all.image.manifests) assert.match(content, new RegExp(m.configDesc.digest), `all platforms: ${m.configDesc.digest}`);
    const otherConfig = hostOnly.image.manifests.find((m) => m.desc.platform?.architecture === other.architecture)!.configDesc.digest;
    assert.doesNotMatch(content, new RegExp(otherConfig), 'host only: no config of the other platform');
  });

  test('images check reports complete and unpacked; snapshots ls shows the committed chain', () => {
    const check = ok(d.ctr(['images', 'check', '--snapshotter', 'overlayfs']));
    for (const f of fixtures) assert.match(check, new RegExp(`^${f.ref}\\s.*\\scomplete \\((\\d+)/\\1\\)\\s.*\\strue\\s*$`, 'm'), `${f.label}: ${check}`);
    const snaps = ok(d.ctr(['snapshots', '--snapshotter', 'overlayfs', 'ls']));
    for (const f of fixtures) {
      f.image.chainIds.forEach((id, i) => {
        const parent = i === 0 ? '' : f.image.chainIds[i - 1]!;
        assert.match(snaps, new RegExp(`^${id}\\s+${parent}\\s*Committed\\s*$`, 'm'), `${f.label}: layer ${i}`);
      });
    }
  });

  test('images export gives back the imported blobs, byte for byte', async () => {
    for (const f of fixtures.filter((x) => x.oci)) {
      const out = join(work, `export-${f.ref.split(':')[1]}.tar`);
      ok(d.ctr(['images', 'export', ...(f.importArgs.includes('--all-platforms') ? ['--all-platforms'] : []), out, f.ref]));
      const tag = f.ref.split(':')[1]!;
      const before = await blobsOf(f.archive, join(work, `x-in-${tag}`));
      const after = await blobsOf(out, join(work, `x-out-${tag}`));
      assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), `${f.label}: same digests`);
      for (const [dg, bytes] of before) assert.ok(after.get(dg)!.equals(bytes), `${f.label}: ${dg} bytes`);
    }
  });

  test('ctrctl images import unpacks client-side; images ls shows packed and unpacked sizes and platforms', async () => {
    const ns = ['--namespace', 'ctrctl-import'];
    const f = fixtures.find((x) => x.importArgs.includes('--all-platforms'))!;
    ok(d.ctrctl([...ns, 'images', 'import', '--all-platforms', '--snapshotter', 'overlayfs', f.archive]));
    const check = ok(d.ctr(['images', 'check', '--snapshotter', 'overlayfs'], { namespace: 'ctrctl-import' }));
    assert.match(check, new RegExp(`^${f.ref}\\s.*\\scomplete \\((\\d+)/\\1\\)\\s.*\\strue\\s*$`, 'm'), check);
    const snaps = ok(d.ctr(['snapshots', '--snapshotter', 'overlayfs', 'ls'], { namespace: 'ctrctl-import' }));
    for (const id of f.image.chainIds) assert.match(snaps, new RegExp(`^${id}\\s.*Committed`, 'm'));
    const target = join(work, 'mnt-ctrctl');
    await mkdir(target, { recursive: true });
    ok(d.ctr(['images', 'mount', '--snapshotter', 'overlayfs', f.ref, target], { namespace: 'ctrctl-import' }));
    try {
      await assertTree(target, f.tree);
    } finally {
      ok(d.ctr(['images', 'unmount', '--rm', target], { namespace: 'ctrctl-import' }));
    }
    const rows = JSON.parse(ok(d.ctrctl([...ns, 'images', 'ls', '--format', 'json']))) as Array<{ name: string; size: number; unpackedSize: number | null; platforms: string[] }>;
    const row = rows.find((r) => r.name === f.ref);
    assert.ok(row, JSON.stringify(rows));
    const m = f.image.manifests.find((x) => x.desc.platform?.architecture === host.architecture)!;
    const packed = f.image.target.size + m.desc.size + m.configDesc.size + f.image.layers.reduce((n, l) => n + l.size, 0);
    assert.equal(row.size, packed, 'packed size: index, host manifest, config and layers');
    const busyboxSize = (await lstat(busybox!)).size;
    assert.ok(row.unpackedSize !== null && row.unpackedSize > busyboxSize, `unpacked size ${row.unpackedSize} holds busybox (${busyboxSize})`);
    assert.deepEqual(row.platforms, [host, other].map((p) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`).sort());
    const table = ok(d.ctrctl([...ns, 'images', 'ls']));
    assert.match(table, /^REF\s+TYPE\s+DIGEST\s+SIZE\s+UNPACKED\s+PLATFORMS/m);
    assert.match(table, new RegExp(`^${f.ref}\\s.*\\s${f.image.target.digest}\\s+\\S+ \\S+\\s+\\S+ \\S+\\s+linux/`, 'm'), table);
  });

  test('snapshots diff of an active snapshot holds the file written in it', async () => {
    const f = fixtures[0]!;
    const parent = f.image.chainIds.at(-1)!;
    const key = 'images-test-active';
    ok(d.ctr(['snapshots', '--snapshotter', 'overlayfs', 'prepare', key, parent]));
    const target = join(work, 'active');
    await mkdir(target, { recursive: true });
    const mountCmd = ok(d.ctr(['snapshots', '--snapshotter', 'overlayfs', 'mounts', target, key])).trim();
    assert.match(mountCmd, /^mount /);
    ok(run('sh', ['-c', mountCmd]));
    try {
      await writeFile(join(target, 'etc', 'written-in-active'), 'hello from the active snapshot\n');
    } finally {
      ok(run('umount', [target]));
    }
    const layer = join(work, 'diff.tar.gz');
    // the layer is binary: read ctr's stdout as bytes
    const diff = spawnSync('ctr', ['--address', d.address, 'snapshots', '--snapshotter', 'overlayfs', 'diff', key], { maxBuffer: 64 << 20 });
    assert.equal(diff.status, 0, diff.stderr?.toString());
    await writeFile(layer, diff.stdout);
    const listing = ok(run('tar', ['-tzf', layer])).split('\n').map((l) => l.replace(/^\.?\//, ''));
    assert.ok(listing.includes('etc/written-in-active'), listing.join(','));
    assert.ok(!listing.includes('bin/busybox'), 'only the change is in the layer');
    const xdir = join(work, 'diff-x');
    await mkdir(xdir);
    ok(run('tar', ['-xzf', layer, '-C', xdir]));
    assert.equal(await readFile(join(xdir, 'etc', 'written-in-active'), 'utf8'), 'hello from the active snapshot\n');
    ok(d.ctr(['snapshots', '--snapshotter', 'overlayfs', 'rm', key]));
  });
});
