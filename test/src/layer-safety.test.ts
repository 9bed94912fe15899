import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, crc32, createDeflateRaw, gzipSync } from 'node:zlib';
import { TestDaemon, missingTool, notRoot, type RunResult } from './harness.js';

const skip = missingTool('ctr') ?? notRoot();
const STRESS = process.env.CTRD_STRESS === '1';
const GiB = 1024 ** 3;
const BOMB_SIZE = STRESS ? 4 * GiB : GiB / 4;
// The whole-daemon run of every case on both snapshotters is for stress mode; npm test uses the default one.
const SNAPSHOTTERS = STRESS ? ['overlayfs', 'native'] : ['overlayfs'];

/** Entry is one crafted tar entry: any name, any link target, nothing cleaned. */
interface Entry {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'link' | 'char';
  data?: string;
  linkname?: string;
  mode?: number;
}

const TYPEFLAG = { file: '0', link: '1', symlink: '2', char: '3', dir: '5' } as const;

function header(name: string, typeflag: string, size: number, o: { linkname?: string; mode?: number; devmajor?: number; devminor?: number } = {}): Buffer {
  const h = Buffer.alloc(512);
  const oct = (v: number, off: number, len: number) => h.write(`${v.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
  h.write(name.slice(0, 100), 0, 100, 'utf8');
  oct(o.mode ?? 0o644, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(1_700_000_000, 136, 12);
  h.fill(0x20, 148, 156);
  h.write(typeflag, 156, 1, 'latin1');
  h.write((o.linkname ?? '').slice(0, 100), 157, 100, 'utf8');
  h.write('ustar\x0000', 257, 8, 'latin1');
  oct(o.devmajor ?? 0, 329, 8);
  oct(o.devminor ?? 0, 337, 8);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (`${len}${body}`.length !== len) len = `${len}${body}`.length;
  return `${len}${body}`;
}

/** tar serialises entries verbatim; names or link targets over 100 bytes go in a PAX header. */
function tar(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const data = Buffer.from(e.data ?? '');
    const long = [e.name.length > 100 ? paxRecord('path', e.name) : '', (e.linkname?.length ?? 0) > 100 ? paxRecord('linkpath', e.linkname!) : ''].join('');
    if (long) {
      const body = Buffer.from(long);
      parts.push(header('PaxHeader', 'x', body.length), body, pad(body.length));
    }
    const size = type === 'file' ? data.length : 0;
    const dev = type === 'char' ? { devmajor: 1, devminor: 1 } : {};
    parts.push(header(e.name, TYPEFLAG[type], size, { linkname: e.linkname, mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644), ...dev }));
    if (size) parts.push(data, pad(size));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** Layer is one layer blob with the digest of its uncompressed tar. */
interface Layer {
  blob: Buffer;
  diffId: string;
  gzip: boolean;
}

const plainLayer = (entries: readonly Entry[]): Layer => {
  const t = tar(entries);
  return { blob: gzipSync(t), diffId: sha(t), gzip: true };
};

/** ociArchive writes an OCI image layout tar holding one image named `name`, as `ctr images export` would. */
function ociArchive(path: string, name: string, layers: readonly Layer[]): void {
  const blobs: { name: string; data: Buffer }[] = [];
  const blob = (b: Buffer): { digest: string; size: number } => {
    const digest = sha(b);
    blobs.push({ name: `blobs/sha256/${digest.slice(7)}`, data: b });
    return { digest, size: b.length };
  };
  const config = Buffer.from(JSON.stringify({ architecture: ARCH[process.arch] ?? process.arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(config) },
    layers: layers.map((l) => ({ mediaType: `application/vnd.oci.image.layer.v1.tar${l.gzip ? '+gzip' : ''}`, ...blob(l.blob) })),
  }));
  const m = blob(manifest);
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': 'latest' } }] };
  const parts: Buffer[] = [];
  const add = (n: string, data: Buffer) => parts.push(header(n, '0', data.length), data, pad(data.length));
  add('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  add('index.json', Buffer.from(JSON.stringify(index)));
  for (const b of blobs) add(b.name, b.data);
  parts.push(Buffer.alloc(1024));
  writeFileSync(path, Buffer.concat(parts));
}

/** treeOf records every path under `dir` with its type, mode, size and content or link target. */
function treeOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    const what = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isFile() ? sha(readFileSync(p)) : st.isDirectory() ? 'dir' : 'other';
    out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${st.nlink} ${st.size} ${st.mtimeMs} ${what}`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), `${rel}/${n}`);
  };
  walk(dir, '.');
  return out;
}

/** Case is one malicious image: its layers, given the canary directory's absolute path. */
interface Case {
  name: string;
  layers: (canary: string) => Layer[];
}

const up = (n: number): string => '../'.repeat(n);

const cases: Case[] = [
  { name: 'dotdot file name', layers: (c) => [plainLayer([{ name: `${up(40)}${c.slice(1)}/pwned`, data: 'x' }])] },
  { name: 'absolute file name', layers: (c) => [plainLayer([{ name: `${c}/pwned`, data: 'x' }])] },
  { name: 'absolute symlink used as a parent', layers: (c) => [plainLayer([{ name: 'evil', type: 'symlink', linkname: c }, { name: 'evil/pwned', data: 'x' }])] },
  { name: 'relative symlink escaping used as a parent', layers: (c) => [plainLayer([{ name: 'evil', type: 'symlink', linkname: `${up(40)}${c.slice(1)}` }, { name: 'evil/pwned', data: 'x' }])] },
  {
    name: 'symlink in layer 1, written through in layer 2',
    layers: (c) => [plainLayer([{ name: 'evil', type: 'symlink', linkname: c }]), plainLayer([{ name: 'evil/pwned', data: 'x' }, { name: 'evil/secret', data: 'overwritten' }])],
  },
  {
    name: 'relative escaping symlink in layer 1, written through in layer 2',
    layers: (c) => [plainLayer([{ name: 'a/b', type: 'symlink', linkname: `../${up(40)}${c.slice(1)}` }]), plainLayer([{ name: 'a/b/pwned', data: 'x' }])],
  },
  { name: 'file over a symlink to a host file', layers: (c) => [plainLayer([{ name: 'passwd', type: 'symlink', linkname: `${c}/secret` }, { name: 'passwd', data: 'mine' }])] },
  { name: 'hardlink to an absolute host file', layers: (c) => [plainLayer([{ name: 'h', type: 'link', linkname: `${c}/secret` }])] },
  { name: 'hardlink with dotdot to a host file', layers: (c) => [plainLayer([{ name: 'h', type: 'link', linkname: `${up(40)}${c.slice(1)}/secret` }])] },
  { name: 'hardlink through an escaping symlink', layers: (c) => [plainLayer([{ name: 's', type: 'symlink', linkname: `${up(40)}${c.slice(1)}` }, { name: 'h', type: 'link', linkname: 's/secret' }])] },
  { name: 'whiteout through a symlink to the host', layers: (c) => [plainLayer([{ name: 's', type: 'symlink', linkname: c }]), plainLayer([{ name: 's/.wh.secret', data: '' }, { name: 's/.wh..wh..opq', data: '' }])] },
  { name: 'device node through a symlink to the host', layers: (c) => [plainLayer([{ name: 'd', type: 'symlink', linkname: c }, { name: 'd/mem', type: 'char', mode: 0o666 }])] },
  { name: 'directory over a symlink to the host', layers: (c) => [plainLayer([{ name: 'd', type: 'symlink', linkname: `${c}/dir` }]), plainLayer([{ name: 'd', type: 'dir', mode: 0o777 }, { name: 'd/pwned', data: 'x' }])] },
  {
    name: 'a layer whose content does not match its diff ID',
    layers: () => {
      const l = plainLayer([{ name: 'f', data: 'real' }]);
      return [{ ...l, diffId: sha(tar([{ name: 'f', data: 'claimed' }])) }];
    },
  },
];

describe('malicious layers imported through ctr', { skip }, () => {
  let d: TestDaemon;
  let work: string;
  let canary: string;
  let pristine: string[];
  const outcomes = { refused: 0, confined: 0 };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ctrd-layer-safety-'));
    canary = join(work, 'canary');
    mkdirSync(join(canary, 'dir'), { recursive: true });
    writeFileSync(join(canary, 'secret'), 'secret\n');
    writeFileSync(join(canary, 'dir', 'file'), 'file\n');
    symlinkSync('secret', join(canary, 'link'));
    pristine = treeOf(canary);
    d = await TestDaemon.start();
  });
  after(async () => {
    if (outcomes.refused + outcomes.confined > 0) console.log(`# malicious layers through ctr images import: ${outcomes.refused} refused, ${outcomes.confined} accepted and confined, canary untouched in all`);
    await d?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  for (const [i, c] of cases.entries()) {
    for (const snapshotter of SNAPSHOTTERS) {
      test(`${c.name} (${snapshotter}): refused or confined, nothing outside changes`, (t) => {
        const archive = join(work, `case-${i}.tar`);
        const name = `docker.io/library/evil-${i}:latest`;
        ociArchive(archive, name, c.layers(canary));
        const r: RunResult = d.ctr(['images', 'import', '--snapshotter', snapshotter, archive]);
        assert.ok(d.proc?.exitCode === null && d.proc.signalCode === null, 'the daemon is still running');
        assert.deepEqual(treeOf(canary), pristine, 'the canary directory is untouched');
        if (r.code === 0) {
          const check = d.ctr(['images', 'check', '--snapshotter', snapshotter]);
          outcomes.confined++;
          t.diagnostic(`accepted, confined to the snapshot`);
          if (c.name.includes('diff ID')) assert.doesNotMatch(check.stdout, new RegExp(`evil-${i}.*true`), 'a layer with a wrong diff ID is not unpacked');
        } else {
          const msg = r.stderr.trim().split('\n').at(-1) ?? '';
          outcomes.refused++;
          t.diagnostic(`refused: ${msg}`);
          assert.match(msg, /\S{8,}/, 'the error says something');
        }
        d.ctr(['images', 'rm', name]);
      });
    }
  }

  test(`a gzip bomb (${BOMB_SIZE / 2 ** 20} MiB of zeros) is applied with bounded daemon memory`, { timeout: 600_000 }, async (t) => {
    const started = Date.now();
    const { blob, diffId } = await zeroLayer(BOMB_SIZE);
    t.diagnostic(`bomb: ${blob.length} bytes gzip for ${BOMB_SIZE} bytes (${Math.round(BOMB_SIZE / blob.length)}:1), built in ${Date.now() - started} ms`);
    assert.ok(blob.length < BOMB_SIZE / 500);
    const archive = join(work, 'bomb.tar');
    ociArchive(archive, 'docker.io/library/bomb:latest', [{ blob, diffId, gzip: true }]);
    const pid = d.proc!.pid!;
    const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
    const before = rss();
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, rss())), 20);
    const applyStart = Date.now();
    const r = await runAsync('ctr', ['--address', d.address, 'images', 'import', archive]);
    clearInterval(timer);
    const ms = Date.now() - applyStart;
    const grown = peak - before;
    console.log(`# gzip bomb ${BOMB_SIZE / 2 ** 20} MiB: import exit ${r.code} in ${ms} ms; daemon RSS ${(before / 2 ** 20).toFixed(0)} -> peak ${(peak / 2 ** 20).toFixed(0)} MiB (VmHWM ${(hwm() / 2 ** 20).toFixed(0)} MiB)`);
    assert.ok(d.proc?.exitCode === null, 'the daemon survives');
    assert.deepEqual(treeOf(canary), pristine);
    if (r.code === 0) {
      assert.match(d.ctr(['images', 'check']).stdout, /bomb:latest.*complete.*true/);
    } else {
      assert.match(r.stderr, /limit|too large|exceed/i, r.stderr);
    }
    assert.ok(grown < 256 * 2 ** 20, `daemon RSS grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
    d.ctr(['images', 'rm', 'docker.io/library/bomb:latest']);
  });
});

/**
 * zeroLayer builds a gzip layer holding one file of `size` zero bytes (a multiple of 8 MiB) without
 * compressing them all: after a full flush the deflater's state is reset, so every further chunk of
 * zeros compresses to the same bytes, which are repeated. The tar is hashed for its diff ID.
 */
async function zeroLayer(size: number): Promise<{ blob: Buffer; diffId: string }> {
  const CHUNK = 8 << 20;
  assert.equal(size % CHUNK, 0);
  const zeros = Buffer.alloc(CHUNK);
  const tail = Buffer.alloc(1024);
  const head = header('zeros', '0', size);
  const d = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  const flushed = async (b: Buffer): Promise<Buffer> => {
    d.write(b);
    await new Promise<void>((r) => d.flush(constants.Z_FULL_FLUSH, () => r()));
    return Buffer.concat(out.splice(0));
  };
  const h = await flushed(head);
  const z = await flushed(zeros);
  assert.deepEqual(await flushed(zeros), z, 'a full flush makes chunks compress alike');
  const ended = new Promise((r) => d.once('end', r));
  d.end(tail);
  await ended;
  const t = Buffer.concat(out);
  const n = size / CHUNK;
  const hash = createHash('sha256').update(head);
  let crc = crc32(head);
  for (let i = 0; i < n; i++) {
    hash.update(zeros);
    crc = crc32(zeros, crc);
  }
  hash.update(tail);
  crc = crc32(tail, crc);
  const gzHead = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE((head.length + size + tail.length) % 2 ** 32, 4);
  const blob = Buffer.concat([gzHead, h, ...Array.from({ length: n }, () => z), t, trailer]);
  return { blob, diffId: `sha256:${hash.digest('hex')}` };
}

function runAsync(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b));
    p.stderr.on('data', (b: Buffer) => (stderr += b));
    p.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
