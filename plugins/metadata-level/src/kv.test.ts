import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { ReadView } from './kv.js';

test('children yields each child once, with its record, whether or not deeper keys follow it', async () => {
  const db = new MemoryLevel<string, string>();
  const p = 'v1\x00ns';
  const k = (...parts: string[]) => [p, ...parts].join('\x00');
  await db.batch([
    { type: 'put', key: k('a'), value: JSON.stringify({ n: 'a' }) },
    { type: 'put', key: k('b'), value: JSON.stringify({ n: 'b' }) },
    { type: 'put', key: k('b', 'x'), value: '"bx"' },
    { type: 'put', key: k('b', 'y', 'z'), value: '"byz"' },
    { type: 'put', key: k('c', 'x'), value: '"cx"' },
    { type: 'put', key: k('c', 'y'), value: '"cy"' },
    { type: 'put', key: k('d'), value: JSON.stringify({ n: 'd' }) },
    { type: 'put', key: 'v1\x00nt', value: '"outside"' },
  ]);
  const seen: Array<[string, unknown]> = [];
  for await (const c of new ReadView(db).children<{ n: string }>(p)) {
    assert.equal(c.key, k(c.name));
    seen.push([c.name, c.value]);
  }
  assert.deepEqual(seen, [['a', { n: 'a' }], ['b', { n: 'b' }], ['c', undefined], ['d', { n: 'd' }]]);
  const records: string[] = [];
  for await (const r of new ReadView(db).records(p)) records.push(r.name);
  assert.deepEqual(records, ['a', 'b', 'd']);
  await db.close();
});

test('children reads in batches: subtrees that cross a batch are skipped, every child once', async () => {
  const db = new MemoryLevel<string, string>();
  const p = 'v1\x00ns';
  const k = (...parts: string[]) => [p, ...parts].join('\x00');
  const ops: Array<{ type: 'put'; key: string; value: string }> = [];
  const want: Array<[string, unknown]> = [];
  for (let i = 0; i < 20; i++) {
    const name = `c${String(i).padStart(2, '0')}`;
    // child i has a record unless i is a multiple of 3, and (i % 4) * 3 deeper keys: c00 and c12
    // have neither and do not exist, c03 and the like have only deeper keys
    if (i % 3 !== 0) ops.push({ type: 'put', key: k(name), value: JSON.stringify(i) });
    for (let j = 0; j < (i % 4) * 3; j++) ops.push({ type: 'put', key: k(name, `d${j}`, 'x'), value: '"deep"' });
    if (i % 3 !== 0 || i % 4 !== 0) want.push([name, i % 3 !== 0 ? i : undefined]);
  }
  await db.batch(ops);
  for (const batch of [1, 2, 3, 7, 1000]) {
    const seen: Array<[string, unknown]> = [];
    for await (const c of new ReadView(db).children(p, batch)) seen.push([c.name, c.value]);
    assert.deepEqual(seen, want, `batch ${batch}`);
  }
  const deep: string[] = [];
  for await (const [key] of new ReadView(db).descendants(k('c03'))) deep.push(key);
  assert.equal(deep.length, 9);
  await db.close();
});

test('a scan of a thousand records on disk is one round trip, not one per 16 KiB', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-kv-'));
  const db = new Level<string, string>(dir);
  try {
    const p = 'v1\x00ns';
    const ops = [];
    for (let i = 0; i < 2500; i++) ops.push({ type: 'put' as const, key: `${p}\x00${String(i).padStart(5, '0')}`, value: JSON.stringify({ pad: 'x'.repeat(200) }) });
    await db.batch(ops);
    const iterator = db.iterator.bind(db);
    let rounds = 0;
    (db as { iterator: unknown }).iterator = (opts: object) => {
      const it = iterator(opts);
      const nextv = it.nextv.bind(it);
      it.nextv = ((size: number) => (rounds++, nextv(size))) as typeof it.nextv;
      return it;
    };
    let children = 0;
    for await (const _ of new ReadView(db).children(p)) children++;
    assert.equal(children, 2500);
    // three full batches and the empty one that ends the scan
    assert.equal(rounds, 4);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});
