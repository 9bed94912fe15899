import { createReadStream } from 'node:fs';
import { MediaType } from '@ctrd/diff';
import { applyLayerStream } from './apply-stream.js';

/**
 * Benchmark entry: `node dist/bench-apply.js <layer.tar.gz> <empty dir>` applies a gzip layer
 * and prints the time and throughput in compressed and uncompressed MB/s.
 */
async function main(): Promise<void> {
  const [file, dir] = process.argv.slice(2);
  if (!file || !dir) throw new Error('usage: bench-apply <layer.tar.gz> <empty dir>');
  const start = process.hrtime.bigint();
  const res = await applyLayerStream(createReadStream(file, { highWaterMark: 1 << 20 }), dir, { mediaType: MediaType.OCILayerGzip, overlay: false });
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  console.log(`${s.toFixed(2)} s, ${mb(res.size)} MB gz (${mb(res.size / s)} MB/s), ${mb(res.uncompressedSize)} MB tar (${mb(res.uncompressedSize / s)} MB/s)`);
}

if (process.argv[1]?.endsWith('bench-apply.js')) await main();
