import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { extract } from 'tar-stream';
import { decodePax, encodePax, ensureBinaryPax, MAX_PAX_SIZE } from './pax.js';
import { buildTar } from './test-helpers.js';

const CAP = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x80, 0xff, 0xfe, 0xc3, 0x28, 0, 0, 0, 0, 0, 0, 0]);

test('decodePax keeps xattr bytes >= 0x80 and decodes other values as UTF-8', () => {
  const body = encodePax({ name: 'ünïcode/path', pax: { 'SCHILY.xattr.security.capability': CAP.toString('latin1'), mtime: '1.5' } });
  const rec = decodePax(body);
  assert.equal(rec.path, 'ünïcode/path');
  assert.deepEqual(Buffer.from(rec['SCHILY.xattr.security.capability']!, 'latin1'), CAP);
  assert.equal(rec.mtime, '1.5');
});

test('decodePax refuses oversized and malformed headers', () => {
  assert.throws(() => decodePax(Buffer.alloc(MAX_PAX_SIZE + 1, 0x31)), isInvalidArgument);
  assert.throws(() => decodePax(Buffer.from('5 a=b\n')), isInvalidArgument);
  assert.throws(() => decodePax(Buffer.from('9 nokey\n')), isInvalidArgument);
  assert.throws(() => decodePax(Buffer.from('x a=b\n')), isInvalidArgument);
});

test('tar-stream reads binary xattrs intact once patched', async () => {
  ensureBinaryPax();
  const tar = await buildTar([{ name: 'f', data: 'x', pax: { 'SCHILY.xattr.security.capability': CAP.toString('latin1') } }]);
  const ex = extract();
  ex.end(tar);
  for await (const entry of ex) {
    const pax = entry.header.pax as Record<string, string>;
    assert.deepEqual(Buffer.from(pax['SCHILY.xattr.security.capability']!, 'latin1'), CAP);
    entry.resume();
  }
});
