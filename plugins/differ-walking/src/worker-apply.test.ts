import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isInvalidArgument } from '@ctrd/errdefs';
import { applyInWorker } from './worker-apply.js';

const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function layer(): { tar: Buffer; gz: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-wa-src-'));
  try {
    writeFileSync(join(dir, 'hello.txt'), 'from the worker\n');
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(3 << 20, 9));
    const tar = execFileSync('tar', ['-c', '--owner=0', '--group=0', '-C', dir, 'hello.txt', 'big.bin'], { maxBuffer: 64 << 20 });
    return { tar, gz: gzipSync(tar, { level: 1 }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function* chunks(b: Buffer, size: number, failAt?: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) {
    if (failAt !== undefined && i >= failAt) throw new Error('network went away');
    yield b.subarray(i, i + size);
  }
}

test('applyInWorker applies a layer on a worker thread and reports its digests', async (t) => {
  const target = mkdtempSync(join(tmpdir(), 'ctrd-wa-'));
  t.after(() => rmSync(target, { recursive: true, force: true }));
  const { tar, gz } = layer();
  const r = await applyInWorker(chunks(gz, 7000), target, { mediaType: GZIP_LAYER, overlay: false, expectedDigest: sha(gz) });
  assert.equal(r.diffID, sha(tar));
  assert.equal(r.compressedDigest, sha(gz));
  assert.equal(r.size, gz.length);
  assert.equal(readFileSync(join(target, 'hello.txt'), 'utf8'), 'from the worker\n');
  assert.equal(readFileSync(join(target, 'big.bin')).length, 3 << 20);
});

test('applyInWorker fails with the source\'s own error, and with the errdefs class of the apply\'s', async (t) => {
  const target = mkdtempSync(join(tmpdir(), 'ctrd-wa-'));
  t.after(() => rmSync(target, { recursive: true, force: true }));
  const { gz } = layer();
  await assert.rejects(applyInWorker(chunks(gz, 1000, gz.length >> 1), target, { mediaType: GZIP_LAYER, overlay: false }), /network went away/);
  const garbage = Buffer.concat([gz.subarray(0, 10), Buffer.alloc(4096, 0xab)]);
  await assert.rejects(applyInWorker(chunks(garbage, 1024), target, { mediaType: GZIP_LAYER, overlay: false }), (e: Error) => isInvalidArgument(e));
  // The worker is still usable after failures.
  const fresh = mkdtempSync(join(tmpdir(), 'ctrd-wa-'));
  t.after(() => rmSync(fresh, { recursive: true, force: true }));
  await applyInWorker(chunks(gz, 1 << 20), fresh, { mediaType: GZIP_LAYER, overlay: false });
  assert.equal(readFileSync(join(fresh, 'hello.txt'), 'utf8'), 'from the worker\n');
});

test('applyInWorker moves handed-over chunks that own their whole buffer, and copies the rest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-wa-src-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const noise = randomBytes(3 << 20);
  writeFileSync(join(dir, 'noise.bin'), noise);
  const tar = execFileSync('tar', ['-c', '--owner=0', '--group=0', '-C', dir, 'noise.bin'], { maxBuffer: 64 << 20 });
  const gz = gzipSync(tar, { level: 1 });
  // Whole 768 KiB buffers (movable), a view into a larger buffer and a small one (both copied).
  const parts = (): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let at = 0;
    for (const size of [768 << 10, 768 << 10, 4096]) {
      out.push(Uint8Array.prototype.slice.call(gz, at, at + size));
      at += size;
    }
    out.push(Buffer.concat([gz.subarray(at), Buffer.alloc(16)]).subarray(0, gz.length - at));
    return out;
  };
  async function* from(list: Uint8Array[]): AsyncGenerator<Uint8Array> {
    yield* list;
  }
  for (const owned of [true, false]) {
    const target = mkdtempSync(join(tmpdir(), 'ctrd-wa-'));
    t.after(() => rmSync(target, { recursive: true, force: true }));
    const list = parts();
    const lengths = list.map((c) => c.byteLength);
    const r = await applyInWorker(from(list), target, { mediaType: GZIP_LAYER, overlay: false, expectedDigest: sha(gz), chunksOwned: owned });
    assert.equal(r.diffID, sha(tar));
    assert.equal(r.compressedDigest, sha(gz));
    assert.deepEqual(readFileSync(join(target, 'noise.bin')), noise);
    // A moved chunk's buffer is detached here; a copied one is as it was.
    assert.deepEqual(list.map((c) => c.byteLength), owned ? [0, 0, lengths[2], lengths[3]] : lengths, `chunksOwned: ${owned}`);
  }
});
