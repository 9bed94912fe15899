import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { isInvalidArgument } from '@ctrd/errdefs';
import { MediaType } from '@ctrd/diff';
import { applyLayerStream } from './apply-stream.js';
import { tarHeaders, encodePax } from './pax.js';
import { lgetxattr } from './sys.js';
import { buildTar, chunked, gzip, tempDir, treeHash, type TestEntry } from './test-helpers.js';

interface Ctx {
  target: string;
  sentinel: string;
}

interface Case {
  name: string;
  /** the layer, built from entries or raw bytes; may use the sentinel's absolute path. */
  layer: (c: Ctx) => Promise<Buffer> | Buffer;
  /** 'refused': InvalidArgument expected; otherwise a check of the safe result. */
  expect: 'refused' | ((c: Ctx) => void);
  overlay?: boolean;
  maxUncompressedSize?: number;
}

const M = new Date(1_700_000_000_000);
const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);
const header = (h: Record<string, unknown>): Buffer =>
  tarHeaders().encode({ mode: 0o644, uid: 0, gid: 0, size: 0, mtime: M, type: 'file', ...h })!;
const END = Buffer.alloc(1024);

/** withPax writes one entry preceded by a raw PAX header body. */
function withPax(body: Buffer, h: Record<string, unknown>, data = Buffer.alloc(0)): Buffer {
  return Buffer.concat([
    header({ name: 'PaxHeader', type: 'pax-header', size: body.length }), body, pad(body.length),
    header({ ...h, size: data.length }), data, pad(data.length), END,
  ]);
}
const pax = (records: Record<string, string>): Buffer => Buffer.from(encodePax({ pax: records }));
const tar = (entries: TestEntry[]): Promise<Buffer> => buildTar(entries);
const refused = 'refused' as const;

const cases: Case[] = [
  { name: 'dotdot file name', layer: () => tar([{ name: '../sentinel/pwned', data: 'x' }]), expect: refused },
  { name: 'dotdot hidden in the middle', layer: () => tar([{ name: 'a/b/../../../sentinel/pwned', data: 'x' }]), expect: refused },
  { name: 'absolute name to the sentinel', layer: (c) => tar([{ name: `${c.sentinel}/pwned`, data: 'x' }]), expect: refused },
  { name: 'absolute name to /etc', layer: () => tar([{ name: '/etc/ctrd-pwned', data: 'x' }]), expect: refused },
  {
    name: 'absolute symlink parent is confined to the target',
    layer: (c) => tar([{ name: 'evil', type: 'symlink', linkname: c.sentinel }, { name: 'evil/pwned', data: 'x' }]),
    expect: (c) => assert.equal(readFileSync(`${c.target}${c.sentinel}/pwned`, 'utf8'), 'x'),
  },
  {
    name: 'relative symlink parent escaping',
    layer: () => tar([{ name: 'evil', type: 'symlink', linkname: '../sentinel' }, { name: 'evil/pwned', data: 'x' }]),
    expect: refused,
  },
  {
    name: 'symlink chain escaping',
    layer: () => tar([
      { name: 'a', type: 'symlink', linkname: 'b' },
      { name: 'b', type: 'symlink', linkname: 'c/../..' },
      { name: 'c/', type: 'directory' },
      { name: 'a/sentinel/pwned', data: 'x' },
    ]),
    expect: refused,
  },
  {
    name: 'deep relative symlink escaping from a subdirectory',
    layer: () => tar([{ name: 'x/y/z', type: 'symlink', linkname: '../../../../sentinel' }, { name: 'x/y/z/pwned', data: 'x' }]),
    expect: refused,
  },
  {
    name: 'symlink then dotdot in the name is cleaned lexically',
    layer: () => tar([{ name: 'l', type: 'symlink', linkname: '/' }, { name: 'l/../inside', data: 'x' }]),
    expect: (c) => assert.equal(readFileSync(`${c.target}/inside`, 'utf8'), 'x'),
  },
  {
    name: 'symlink loop',
    layer: () => tar([{ name: 'l1', type: 'symlink', linkname: 'l2' }, { name: 'l2', type: 'symlink', linkname: 'l1' }, { name: 'l1/x', data: 'x' }]),
    expect: refused,
  },
  { name: 'self-referencing symlink', layer: () => tar([{ name: 's', type: 'symlink', linkname: 's/s' }, { name: 's/x', data: 'x' }]), expect: refused },
  {
    name: 'file over a symlink to outside replaces the link',
    layer: () => tar([{ name: 'passwd', type: 'symlink', linkname: '../sentinel/secret' }, { name: 'passwd', data: 'mine' }]),
    expect: (c) => {
      assert.ok(lstatSync(`${c.target}/passwd`).isFile());
      assert.equal(readFileSync(`${c.target}/passwd`, 'utf8'), 'mine');
    },
  },
  {
    name: 'directory over a symlink to outside replaces the link',
    layer: () => tar([{ name: 'd', type: 'symlink', linkname: '../sentinel' }, { name: 'd/', type: 'directory', mode: 0o777 }]),
    expect: (c) => assert.ok(lstatSync(`${c.target}/d`).isDirectory()),
  },
  { name: 'hardlink with dotdot target', layer: () => tar([{ name: 'h', type: 'link', linkname: '../sentinel/secret' }]), expect: refused },
  { name: 'hardlink with absolute target', layer: (c) => tar([{ name: 'h', type: 'link', linkname: `${c.sentinel}/secret` }]), expect: refused },
  {
    name: 'hardlink through an absolute symlink stays inside',
    layer: (c) => tar([{ name: 's', type: 'symlink', linkname: c.sentinel }, { name: 'h', type: 'link', linkname: 's/secret' }]),
    expect: refused, // the target resolves to <target><sentinel>/secret, which does not exist
  },
  {
    name: 'hardlink through a relative symlink escaping',
    layer: () => tar([{ name: 's', type: 'symlink', linkname: '../sentinel' }, { name: 'h', type: 'link', linkname: 's/secret' }]),
    expect: refused,
  },
  {
    name: 'hardlink to a symlink pointing outside links the symlink itself',
    layer: () => tar([{ name: 's', type: 'symlink', linkname: '../sentinel/secret' }, { name: 'h', type: 'link', linkname: 's' }]),
    expect: (c) => assert.equal(readlinkSync(`${c.target}/h`), '../sentinel/secret'),
  },
  { name: 'hardlink to a directory', layer: () => tar([{ name: 'd/', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd' }]), expect: refused },
  { name: 'hardlink to itself', layer: () => tar([{ name: 'h', data: 'x' }, { name: 'h', type: 'link', linkname: 'h' }]), expect: refused },
  {
    name: 'duplicate entries: the last one wins',
    layer: () => tar([{ name: 'a', data: 'first' }, { name: 'a/', type: 'directory' }, { name: 'a/x', data: 'x' }, { name: 'a', data: 'last' }]),
    expect: (c) => assert.equal(readFileSync(`${c.target}/a`, 'utf8'), 'last'),
  },
  {
    name: 'file replaced by an escaping symlink, then written through',
    layer: () => tar([{ name: 'x/', type: 'directory' }, { name: 'x', type: 'symlink', linkname: '../sentinel' }, { name: 'x/pwned', data: 'x' }]),
    expect: refused,
  },
  { name: 'entry under a regular file', layer: () => tar([{ name: 'f', data: 'x' }, { name: 'f/x', data: 'x' }]), expect: refused },
  { name: 'whiteout of dotdot', layer: () => tar([{ name: '.wh...', data: '' }]), expect: refused },
  {
    name: 'whiteout through an escaping symlink',
    layer: () => tar([{ name: 's', type: 'symlink', linkname: '../sentinel' }, { name: 's/.wh.secret', data: '' }]),
    expect: refused,
  },
  {
    name: 'whiteout through an absolute symlink stays inside',
    layer: (c) => tar([{ name: 's', type: 'symlink', linkname: c.sentinel }, { name: 's/.wh.secret', data: '' }]),
    expect: (c) => assert.ok(existsSync(`${c.target}${c.sentinel}`)),
  },
  { name: 'whiteout named by dotdot path', layer: () => tar([{ name: '../sentinel/.wh.secret', data: '' }]), expect: refused },
  {
    name: 'opaque marker through an escaping symlink',
    layer: () => tar([{ name: 's', type: 'symlink', linkname: '../sentinel' }, { name: 's/.wh..wh..opq', data: '' }]),
    expect: refused,
  },
  {
    name: 'overlay opaque marker through an absolute symlink stays inside',
    overlay: true,
    layer: (c) => tar([{ name: 's', type: 'symlink', linkname: c.sentinel }, { name: 's/.wh..wh..opq', data: '' }]),
    expect: (c) => assert.equal(lgetxattr(`${c.target}${c.sentinel}`, 'trusted.overlay.opaque').toString(), 'y'),
  },
  {
    name: 'overlay whiteout through an escaping symlink',
    overlay: true,
    layer: () => tar([{ name: 's', type: 'symlink', linkname: '../sentinel' }, { name: 's/.wh.secret', data: '' }]),
    expect: refused,
  },
  {
    name: 'device nodes are created inside the target',
    layer: () => tar([{ name: 'dev/mem', type: 'character-device', devmajor: 1, devminor: 1, mode: 0o600 }, { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }]),
    expect: (c) => {
      assert.ok(lstatSync(`${c.target}/dev/mem`).isCharacterDevice());
      assert.ok(lstatSync(`${c.target}/dev/sda`).isBlockDevice());
    },
  },
  {
    name: 'device node through an escaping symlink',
    layer: () => tar([{ name: 'd', type: 'symlink', linkname: '../sentinel' }, { name: 'd/mem', type: 'character-device', devmajor: 1, devminor: 1 }]),
    expect: refused,
  },
  {
    name: 'setuid root binary keeps its bits inside the target only',
    layer: () => tar([{ name: 'bin/sh', data: '#!', mode: 0o6755, uid: 0, gid: 0 }]),
    expect: (c) => assert.equal(lstatSync(`${c.target}/bin/sh`).mode & 0o7777, 0o6755),
  },
  { name: 'root entry is ignored', layer: () => tar([{ name: './', type: 'directory', mode: 0o777, uid: 4242 }]), expect: (c) => assert.notEqual(lstatSync(c.target).uid, 4242) },
  { name: 'huge pax header', layer: () => withPax(pax({ comment: 'x'.repeat(2 * 1024 * 1024) }), { name: 'f' }), expect: refused },
  {
    name: 'pax header with too many records',
    layer: () => withPax(pax(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'v']))), { name: 'f' }),
    expect: refused,
  },
  { name: 'pax path escaping behind an innocent ustar name', layer: () => withPax(pax({ path: '../sentinel/pwned' }), { name: 'innocent' }, Buffer.from('x')), expect: refused },
  { name: 'pax linkpath escaping', layer: () => withPax(pax({ linkpath: '../sentinel/secret' }), { name: 'h', type: 'link', linkname: 'x' }), expect: refused },
  { name: 'pax record with a lying length', layer: () => withPax(Buffer.from('99 path=a\n'), { name: 'f' }), expect: refused },
  { name: 'pax path with a NUL byte', layer: () => withPax(pax({ path: 'a\0b' }), { name: 'f' }), expect: refused },
  { name: 'pax uid out of range', layer: () => withPax(pax({ uid: '99999999999' }), { name: 'f' }), expect: refused },
  { name: 'name longer than PATH_MAX', layer: () => tar([{ name: `${'d/'.repeat(2100)}f`, data: 'x' }]), expect: refused },
  { name: 'component longer than NAME_MAX', layer: () => tar([{ name: 'n'.repeat(300), data: 'x' }]), expect: refused },
  { name: 'truncated header', layer: async () => (await tar([{ name: 'a', data: 'x' }])).subarray(0, 300), expect: refused },
  { name: 'truncated file data', layer: async () => (await tar([{ name: 'a', data: 'x'.repeat(5000) }])).subarray(0, 2048), expect: refused },
  {
    name: 'size field far beyond the stream',
    layer: () => Buffer.concat([header({ name: 'big', size: 1024 ** 4 }), Buffer.alloc(4096)]),
    expect: refused,
  },
  {
    name: 'corrupted header checksum',
    layer: async () => {
      const b = await tar([{ name: 'a', data: 'x' }]);
      b[0] = 0x62;
      return b;
    },
    expect: refused,
  },
  { name: 'not a tar at all', layer: () => Buffer.from('x'.repeat(2048)), expect: refused },
  { name: 'corrupt gzip stream', layer: async () => gzip(await tar([{ name: 'a', data: 'x'.repeat(5000) }])).subarray(0, 40), expect: refused },
  { name: 'unsupported entry type (GNU sparse)', layer: () => sparse(), expect: refused },
  {
    name: 'zip bomb over the configured limit',
    maxUncompressedSize: 1024 * 1024,
    layer: async () => gzip(await tar([{ name: 'zeros', data: Buffer.alloc(64 * 1024 * 1024) }])),
    expect: refused,
  },
];

/** sparse builds a GNU sparse ('S') entry with a valid checksum. */
function sparse(): Buffer {
  const h = header({ name: 'sparse' });
  h[156] = 0x53;
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([h, END]);
}

function setup(base: string): Ctx {
  const target = `${base}/target`;
  const sentinel = `${base}/sentinel`;
  mkdirSync(target);
  mkdirSync(`${sentinel}/dir`, { recursive: true });
  writeFileSync(`${sentinel}/secret`, 'secret');
  writeFileSync(`${sentinel}/dir/file`, 'file');
  symlinkSync('secret', `${sentinel}/link`);
  return { target, sentinel };
}

test('the corpus has at least 25 named cases', () => {
  assert.ok(cases.length >= 25, `${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

for (const c of cases) {
  test(`malicious layer: ${c.name}`, async () => {
    const [base, rm] = tempDir('ctrd-evil-');
    try {
      const ctx = setup(base);
      const before = treeHash(base + '/sentinel');
      const layer = await c.layer(ctx);
      const run = applyLayerStream(chunked(layer, 4096), ctx.target, {
        mediaType: MediaType.OCILayerGzip, overlay: c.overlay ?? false, maxUncompressedSize: c.maxUncompressedSize,
      });
      if (c.expect === 'refused') await assert.rejects(run, (err) => isInvalidArgument(err) || assert.fail(String((err as Error).stack)));
      else {
        await run;
        c.expect(ctx);
      }
      assert.equal(treeHash(base + '/sentinel'), before, 'the sentinel tree is unchanged');
      assert.deepEqual(readdirSync(base).sort(), ['sentinel', 'target'], 'nothing appeared beside the target');
    } finally {
      rm();
    }
  });
}
