#!/usr/bin/env node
// Measures write+commit and read throughput of the local store.
// Usage: node plugins/content-local/bench/throughput.mjs [sizeMiB=256] [dir=os.tmpdir()]
// Build first (node scripts/build.mjs, or npx tsc -b plugins/content-local/tsconfig.json).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStore } from '../dist/index.js';

const MiB = 1024 * 1024;
const sizeMiB = Number(process.argv[2] ?? 256);
const root = await mkdtemp(join(process.argv[3] ?? tmpdir(), 'ctrd-content-bench-'));
const rate = (bytes, ms) => `${((bytes / MiB) / (ms / 1000)).toFixed(0)} MiB/s`;

try {
  // 16 distinct random chunks, repeated: the blob stays incompressible without 256 MiB of setup.
  const chunks = Array.from({ length: 16 }, () => randomBytes(MiB));
  const h = createHash('sha256');
  for (let i = 0; i < sizeMiB; i++) h.update(chunks[i % 16]);
  const digest = `sha256:${h.digest('hex')}`;
  const size = sizeMiB * MiB;

  let t = performance.now();
  const h2 = createHash('sha256');
  for (let i = 0; i < sizeMiB; i++) h2.update(chunks[i % 16]);
  h2.digest();
  const hashMs = performance.now() - t;

  const store = await createLocalStore(root);
  t = performance.now();
  const w = await store.writer({ ref: 'bench', total: size, expected: digest });
  for (let i = 0; i < sizeMiB; i++) await w.write(chunks[i % 16]);
  const wroteMs = performance.now() - t;
  await w.commit(size, digest);
  const commitMs = performance.now() - t;

  const ra = await store.readerAt({ digest });
  t = performance.now();
  let n = 0;
  for await (const c of ra.stream()) n += c.length;
  const streamMs = performance.now() - t;
  t = performance.now();
  const rh = createHash('sha256');
  for await (const c of ra.stream()) rh.update(c);
  const verified = `sha256:${rh.digest('hex')}` === digest;
  const verifyMs = performance.now() - t;
  await ra.close();
  if (n !== size || !verified) throw new Error('read back mismatch');

  console.log(`blob: ${sizeMiB} MiB in ${root}`);
  console.log(`sha256 alone (in memory):      ${hashMs.toFixed(0)} ms  ${rate(size, hashMs)}`);
  console.log(`write (1 MiB writes):          ${wroteMs.toFixed(0)} ms  ${rate(size, wroteMs)}`);
  console.log(`write + commit (fsync+rename): ${commitMs.toFixed(0)} ms  ${rate(size, commitMs)}`);
  console.log(`read (stream, 1 MiB chunks):   ${streamMs.toFixed(0)} ms  ${rate(size, streamMs)}`);
  console.log(`read + sha256 verify:          ${verifyMs.toFixed(0)} ms  ${rate(size, verifyMs)}`);
} finally {
  await rm(root, { recursive: true, force: true });
}
