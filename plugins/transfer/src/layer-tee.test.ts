import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LayerTee } from './layer-tee.js';

async function collect(it: AsyncIterable<Uint8Array>): Promise<string> {
  let s = '';
  for await (const c of it) s += Buffer.from(c).toString();
  return s;
}

test('a consumer that asks before the download decided waits, and gets no stream when the download resumes', async () => {
  const tee = new LayerTee();
  const attaching = tee.attach();
  let settled = false;
  void attaching.then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'attach waits for the producer');
  // The download found an earlier ingest and resumes past byte 0.
  tee.detach();
  assert.equal(await attaching, undefined, 'the consumer reads the stored blob instead of failing');
});

test('a download from the first byte streams every chunk to a consumer that asked early', async () => {
  const tee = new LayerTee();
  const attaching = tee.attach();
  tee.start();
  const live = await attaching;
  assert.ok(live);
  const got = collect(live);
  await tee.push(Buffer.from('ab'));
  await tee.push(Buffer.from('cd'));
  tee.end();
  assert.equal(await got, 'abcd');
});

test('a detach after the consumer began fails its stream', async () => {
  const tee = new LayerTee();
  tee.start();
  const live = await tee.attach();
  assert.ok(live);
  const got = collect(live);
  await tee.push(Buffer.from('ab'));
  tee.detach();
  await assert.rejects(got, /layer stream detached/);
});

test('past its buffer limit an unattached tee detaches for good', async () => {
  const tee = new LayerTee(4);
  await tee.push(Buffer.from('abc'));
  await tee.push(Buffer.from('def'));
  assert.equal(tee.detached, true);
  assert.equal(await tee.attach(), undefined);
});
