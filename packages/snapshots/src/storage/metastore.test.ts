import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { Kind } from '../snapshotter.js';
import { MetaStore } from './metastore.js';

const dir = mkdtempSync(join(tmpdir(), 'metastore-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('records survive reopening, with IDs, parents, labels and usage', async () => {
  const path = join(dir, 'a', 'metadata.json');
  const ms = await MetaStore.open(path);
  const a = await ms.update((tx) => tx.createSnapshot(Kind.Active, 'k', undefined, { labels: { x: 'y' } }));
  await ms.update((tx) => tx.commitActive('k', 'c', { size: 4096, inodes: 2 }));
  const b = await ms.update((tx) => tx.createSnapshot(Kind.View, 'v', 'c'));
  assert.deepEqual(b.parentIds, [a.id]);
  await ms.close();

  const again = await MetaStore.open(path);
  const { id, info, usage } = await again.view((tx) => tx.getInfo('c'));
  assert.equal(id, a.id);
  assert.equal(info.kind, Kind.Committed);
  assert.deepEqual(usage, { size: 4096, inodes: 2 });
  assert.deepEqual(await again.view((tx) => tx.getSnapshot('v')), { id: b.id, kind: Kind.View, parentIds: [a.id] });
  const next = await again.update((tx) => tx.createSnapshot(Kind.Active, 'n', undefined));
  assert.ok(Number(next.id) > Number(b.id), 'IDs are never reused');
  await again.close();
});

test('a writer that throws leaves neither memory nor disk changed', async () => {
  const path = join(dir, 'b.json');
  const ms = await MetaStore.open(path);
  await ms.update((tx) => tx.createSnapshot(Kind.Active, 'keep', undefined));
  const before = readFileSync(path, 'utf8');
  await assert.rejects(
    ms.update((tx) => {
      tx.createSnapshot(Kind.Active, 'lost', undefined);
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(readFileSync(path, 'utf8'), before);
  assert.equal(codeOf(await ms.view((tx) => tx.getInfo('lost')).catch((e: unknown) => e)), 'NOT_FOUND');
  await ms.close();
});

test('writers are serialised and readers see only committed state', async () => {
  const ms = await MetaStore.open(join(dir, 'c.json'));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = ms.update(async (tx) => {
    tx.createSnapshot(Kind.Active, 'slow', undefined);
    await gate;
  });
  const fast = ms.update((tx) => tx.createSnapshot(Kind.Active, 'fast', undefined));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(codeOf(await ms.view((tx) => tx.getInfo('slow')).catch((e: unknown) => e)), 'NOT_FOUND');
  assert.equal(codeOf(await ms.view((tx) => tx.getInfo('fast')).catch((e: unknown) => e)), 'NOT_FOUND');
  release();
  await Promise.all([slow, fast]);
  const ids = await ms.view((tx) => [tx.getInfo('slow').id, tx.getInfo('fast').id]);
  assert.ok(Number(ids[0]) < Number(ids[1]), 'the earlier writer ran first');
  await ms.close();
  await ms.close();
  await assert.rejects(ms.view(() => 1), (e: unknown) => codeOf(e) === 'FAILED_PRECONDITION');
});

test('a read-only transaction refuses writes; labels named like prototype keys stay data', async () => {
  const ms = await MetaStore.open(join(dir, 'd.json'));
  await assert.rejects(ms.view((tx) => tx.createSnapshot(Kind.Active, 'x', undefined)), (e: unknown) => codeOf(e) === 'FAILED_PRECONDITION');
  const labels = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
  await ms.update((tx) => tx.createSnapshot(Kind.Active, 'x', undefined, { labels }));
  const info = await ms.view((tx) => tx.getInfo('x').info);
  assert.deepEqual(Object.keys(info.labels).sort(), ['__proto__', 'constructor']);
  assert.equal(Object.getPrototypeOf(info.labels), Object.prototype);
  await ms.close();
});

test('a corrupt or future file is refused, not overwritten', async () => {
  const bad = join(dir, 'e.json');
  writeFileSync(bad, '{not json');
  await assert.rejects(MetaStore.open(bad), (e: unknown) => codeOf(e) === 'DATA_LOSS');
  writeFileSync(bad, JSON.stringify({ version: 99, nextId: 1, snapshots: [] }));
  await assert.rejects(MetaStore.open(bad), (e: unknown) => codeOf(e) === 'FAILED_PRECONDITION');
  assert.match(readFileSync(bad, 'utf8'), /"version":99/);
});
