#!/usr/bin/env node
// Brings a fresh Debian 12 machine (as root) to the point where ctrd runs and its tests pass:
//   1. system packages through apt-get, non-interactively, only those missing;
//   2. npm dependencies (`npm ci`) when node_modules is missing or older than the lockfile;
//   3. the build (`tsc -b`, incremental, so a second run is quick);
//   4. the shim launcher linked into /usr/local/bin, where a runtime v2 manager looks for it;
//   5. containerd's .proto sources unpacked under .cache/gocode for the protos' conformance test.
// Plain Node with no dependencies, so it runs before anything is installed.
// Set CTRD_SKIP_APT=1 to skip step 1 (e.g. when not root).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, statSync, symlinkSync, lstatSync, readlinkSync, unlinkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');

/** System packages ctrd and its test suite use, with why. */
const APT_PACKAGES = [
  'runc', // the OCI runtime our shim drives
  'containerd', // containerd's own `ctr` (compatibility client), its shim and the side-by-side benchmarks
  'busybox-static', // test images and root filesystems are built from it, offline
  'btrfs-progs', // the btrfs snapshotter and its loop-file test filesystem
  'docker-registry', // a real registry on 127.0.0.1 for pull/push tests
  'zstd', // zstd layers are decompressed by spawning it
  'pigz', // containerd uses it when present; recorded by the benchmarks
  'openssl', // test CAs and certificates for TLS registries
  'criu', // checkpoint/restore (the real run is skipped where the kernel lacks support)
  'util-linux', // mount, losetup
  'prometheus', // promtool checks the metrics endpoint's exposition format
];

function log(msg) {
  process.stderr.write(`setup: ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: top, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function nodeVersionOk() {
  const [maj, min] = process.versions.node.split('.').map(Number);
  return maj > 20 || (maj === 20 && min >= 19);
}

function missingPackages() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...APT_PACKAGES], { encoding: 'utf8' });
  const installed = new Set(
    (r.stdout ?? '')
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  return APT_PACKAGES.filter((p) => !installed.has(p));
}

function aptInstall() {
  if (process.env.CTRD_SKIP_APT === '1') return;
  if (!existsSync('/usr/bin/dpkg-query')) {
    log('not a Debian system: install runc, containerd, busybox-static, btrfs-progs, docker-registry, zstd by hand');
    return;
  }
  const missing = missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    log(`missing system packages (run as root to install): ${missing.join(' ')}`);
    return;
  }
  log(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptArgs = ['-y', '-q', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
  let status = run('apt-get', ['install', ...aptArgs, '--no-install-recommends', ...missing], { env });
  if (status !== 0) {
    run('apt-get', ['update', '-q'], { env });
    status = run('apt-get', ['install', ...aptArgs, '--no-install-recommends', ...missing], { env });
  }
  if (status !== 0) throw new Error(`apt-get install failed for: ${missing.join(' ')}`);
  // Debian starts these services when it can; ctrd's tests start their own instances.
  for (const svc of ['containerd', 'docker-registry']) {
    spawnSync('service', [svc, 'stop'], { stdio: 'ignore' });
  }
}

/**
 * Debian packages holding the .proto files the conformance test in packages/api compares ours
 * with: containerd's API and shim protos, and (compared when present) the cgroups metrics,
 * google.rpc.Status and the gRPC health protos. They are Go source packages whose dependencies
 * would install ~110 more packages (systemd upgrades among them), so setup downloads the four
 * .debs alone and unpacks them into GOCODE_ROOT instead of installing them.
 */
const PROTO_PACKAGES = [
  'golang-github-containerd-containerd-dev',
  'golang-github-containerd-cgroups-dev',
  'golang-github-gogo-googleapis-dev',
  'golang-google-grpc-dev',
];
const GOCODE_ROOT = join(top, '.cache', 'gocode');
const CONTAINERD_API = 'usr/share/gocode/src/github.com/containerd/containerd/api';

function protoSources() {
  if (existsSync(join('/', CONTAINERD_API)) || existsSync(join(GOCODE_ROOT, CONTAINERD_API))) return;
  if (!existsSync('/usr/bin/apt-get') || !existsSync('/usr/bin/dpkg-deb')) {
    log('not a Debian system: the protos\' conformance test will skip (set CTRD_GOCODE_SRC to a Go src tree with containerd 1.6)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-protos-'));
  try {
    // apt drops root to its _apt user to download, and that user must be able to write here.
    chmodSync(dir, 0o777);
    const download = () => run('apt-get', ['download', '-q', ...PROTO_PACKAGES], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    let status = download();
    if (status !== 0 && process.getuid?.() === 0) {
      run('apt-get', ['update', '-q'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      status = download();
    }
    if (status !== 0) {
      log(`could not download ${PROTO_PACKAGES.join(' ')}: the protos' conformance test will skip`);
      return;
    }
    mkdirSync(GOCODE_ROOT, { recursive: true });
    for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb'))) {
      // A failure costs one optional test (it skips, naming the missing sources), not the set-up.
      if (run('dpkg-deb', ['-x', join(dir, deb), GOCODE_ROOT]) !== 0) log(`could not unpack ${deb}`);
    }
    log(`unpacked containerd's proto sources into ${relative(top, GOCODE_ROOT)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function npmInstall() {
  const marker = join(top, 'node_modules', '.package-lock.json');
  const lock = join(top, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm ci)');
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) throw new Error('npm ci failed');
}

function build() {
  if (run(process.execPath, [join(top, 'scripts', 'build.mjs')]) !== 0) throw new Error('build failed');
}

/**
 * linkWorkspaceBins links every workspace package's `bin` into node_modules/.bin, as npm does
 * at install time: npm skips a bin whose file the build has not produced yet, so after `npm ci`
 * on a fresh clone `npx ctrd` and `npx ctrctl` would find nothing.
 */
function linkWorkspaceBins() {
  const binDir = join(top, 'node_modules', '.bin');
  mkdirSync(binDir, { recursive: true });
  for (const group of ['packages', 'plugins', 'examples']) {
    for (const name of existsSync(join(top, group)) ? readdirSync(join(top, group)) : []) {
      const pj = join(top, group, name, 'package.json');
      if (!existsSync(pj)) continue;
      const pkg = JSON.parse(readFileSync(pj, 'utf8'));
      const bins = typeof pkg.bin === 'string' ? { [pkg.name.split('/').pop()]: pkg.bin } : (pkg.bin ?? {});
      for (const [bin, rel] of Object.entries(bins)) {
        const target = relative(binDir, join(top, group, name, rel));
        const link = join(binDir, bin);
        try {
          if (readlinkSync(link) === target) continue;
          unlinkSync(link);
        } catch {
          // absent
        }
        symlinkSync(target, link);
      }
    }
  }
}

/** linkBinaries puts the shim launcher on PATH, as runtime v2 expects of a shim binary. */
function linkBinaries() {
  if (process.getuid?.() !== 0) return;
  const links = [['containerd-shim-ctrd-v1', join(top, 'packages', 'shim', 'bin', 'containerd-shim-ctrd-v1')]];
  for (const [name, target] of links) {
    if (!existsSync(target)) continue;
    const link = join('/usr/local/bin', name);
    try {
      if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === target) continue;
      unlinkSync(link);
    } catch {
      // absent
    }
    symlinkSync(target, link);
    log(`linked ${link} -> ${target}`);
  }
}

try {
  if (!nodeVersionOk()) throw new Error(`Node ${process.versions.node} is too old: ctrd needs Node 20.19 or newer`);
  aptInstall();
  npmInstall();
  build();
  linkWorkspaceBins();
  linkBinaries();
  protoSources();
} catch (err) {
  log(err.message);
  process.exit(1);
}
