import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLevel } from 'memory-level';
import { KEYS, pathKey } from './keys.js';
import { ReadView } from './kv.js';
import { namespaceTrees } from './memory-tree.js';

async function collect<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('a namespace read into memory answers as the database does', async () => {
  const db = new MemoryLevel<string, string>();
  const entries: Array<[string[], unknown]> = [
    [['a'], {}],
    [['a', 'images', 'x/y:1'], { n: 1 }],
    [['a', 'images', 'x/y:1', 'deeper'], 'd'],
    [['a', 'images', 'with\x00nul'], { n: 2 }],
    [['a', 'images', 'with\x01soh'], { n: 3 }],
    [['a', 'images', 'ü-😀'], { n: 4 }],
    [['a', 'leases', 'l1'], {}],
    [['a', 'leases', 'l1', 'content', 'sha256:1'], {}],
    [['a', 'leases', 'l1', 'snapshots', 'native', 'k'], {}],
    [['a', 'only', 'deep', 'key'], 'x'],
    [['b'], {}],
    [['b', 'images', 'z'], { n: 5 }],
    [['c'], {}],
  ];
  await db.batch(entries.map(([parts, v]) => ({ type: 'put' as const, key: pathKey('v1', ...parts), value: JSON.stringify(v) })));
  await db.put('ingestseq', '7');

  const trees = await collect(namespaceTrees(new ReadView(db)));
  assert.deepEqual(
    trees.map((t) => [t.namespace, t.tree.size]),
    [['a', 10], ['b', 2], ['c', 1]],
  );
  const view = new ReadView(db);
  const a = trees[0]!.tree;
  for (const parent of [KEYS.namespace('a'), KEYS.images('a'), KEYS.image('a', 'x/y:1'), KEYS.leases('a'), pathKey('v1', 'a', 'only'), KEYS.containers('a')]) {
    assert.deepEqual(await collect(a.children(parent)), await collect(view.children(parent)), `children of ${JSON.stringify(parent)}`);
    assert.deepEqual(await collect(a.records(parent)), await collect(view.records(parent)), `records of ${JSON.stringify(parent)}`);
    assert.deepEqual(await collect(a.descendants(parent)), await collect(view.descendants(parent)), `descendants of ${JSON.stringify(parent)}`);
  }
  assert.deepEqual(
    [...a.named(KEYS.images('a'))],
    (await collect(view.records(KEYS.images('a')))).map((r) => ({ name: r.name, key: r.key })),
  );
  assert.equal(a.mentions(KEYS.image('a', 'x/y:1'), '"n":1'), true);
  assert.equal(a.mentions(KEYS.image('a', 'x/y:1'), '"n":2'), false);
  assert.equal(a.mentions(KEYS.image('a', 'missing'), '"n"'), false);
  assert.deepEqual(a.get(KEYS.image('a', 'with\x00nul')), { n: 2 });
  assert.equal(a.get(KEYS.image('a', 'missing')), undefined);
  assert.equal(a.get(KEYS.image('b', 'z')), undefined, 'another namespace is not in the tree');
  await db.close();
});

test('an empty database yields no namespace', async () => {
  const db = new MemoryLevel<string, string>();
  await db.put('version', '"1"');
  assert.deepEqual(await collect(namespaceTrees(new ReadView(db))), []);
  await db.close();
});
