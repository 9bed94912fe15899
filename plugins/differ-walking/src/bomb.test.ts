import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { isInvalidArgument } from '@ctrd/errdefs';
import { MediaType } from '@ctrd/diff';
import { applyLayerStream } from './apply-stream.js';
import { tarHeaders } from './pax.js';
import { chunked, tempDir } from './test-helpers.js';

const GiB = 1024 ** 3;

/** zeroLayer streams a gzip layer holding one file of `size` zero bytes (about 1000:1). */
async function zeroLayer(size: number): Promise<Buffer> {
  const header = tarHeaders().encode({ name: 'zeros', mode: 0o644, uid: 0, gid: 0, size, mtime: new Date(0), type: 'file' })!;
  async function* tar(): AsyncGenerator<Buffer> {
    yield header;
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    for (let left = size; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
    yield Buffer.alloc(1024);
  }
  const out: Buffer[] = [];
  for await (const c of Readable.from(tar()).pipe(createGzip({ level: 1 }))) out.push(c as Buffer);
  return Buffer.concat(out);
}

test('a 1 GiB zip bomb applies with bounded memory', { timeout: 120_000 }, async (t) => {
  const layer = await zeroLayer(GiB);
  assert.ok(layer.length < GiB / 100, `compression ratio over 100:1 (${layer.length} bytes)`);
  const [dir, rm] = tempDir();
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    async function* src(): AsyncGenerator<Buffer> {
      for (let i = 0; i < layer.length; i += 65536) yield layer.subarray(i, i + 65536);
    }
    const res = await applyLayerStream(src(), dir, { mediaType: MediaType.OCILayerGzip, overlay: false });
    assert.equal(statSync(`${dir}/zeros`).size, GiB);
    assert.equal(res.uncompressedSize, GiB + 512 + 1024);
    t.diagnostic(`RSS grew by ${((peak - before) / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(peak - before < 200 * 1024 * 1024, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    clearInterval(timer);
    rm();
  }
});

test('maxUncompressedSize refuses a zip bomb early', { timeout: 60_000 }, async () => {
  const layer = await zeroLayer(256 * 1024 * 1024);
  const [dir, rm] = tempDir();
  try {
    await assert.rejects(
      applyLayerStream(chunked(layer), dir, { mediaType: MediaType.OCILayerGzip, overlay: false, maxUncompressedSize: 16 * 1024 * 1024 }),
      (err) => isInvalidArgument(err) && /limit/.test((err as Error).message),
    );
    assert.ok(statSync(`${dir}/zeros`).size <= 17 * 1024 * 1024);
  } finally {
    rm();
  }
});
