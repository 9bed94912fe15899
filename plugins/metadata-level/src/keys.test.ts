import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLevel } from 'memory-level';
import { childRange, decodeComponent, encodeComponent, pathKey, splitKey } from './keys.js';
import { ReadView } from './kv.js';

const AWKWARD = ['plain', 'a/b:c', 'with space', 'nul\x00inside', 'esc\x01inside', '\x00', '\x01\x02', '', 'ünïcødé/🙂'];

test('components round-trip through the escaping, NUL and \\x01 included', () => {
  for (const c of AWKWARD) assert.equal(decodeComponent(encodeComponent(c)), c);
  assert.deepEqual(splitKey(pathKey(...AWKWARD)), AWKWARD);
  for (const c of AWKWARD) assert.ok(!encodeComponent(c).includes('\x00'), JSON.stringify(c));
});

test('the child range of a key holds exactly its descendants', () => {
  const parent = pathKey('v1', 'ns', 'images');
  const { gte, lt } = childRange(parent);
  const inside = AWKWARD.map((c) => pathKey('v1', 'ns', 'images', c));
  const outside = [pathKey('v1', 'ns', 'images\x00x'), pathKey('v1', 'ns', 'images\x01'), pathKey('v1', 'ns', 'imagesx'), parent];
  for (const k of inside) assert.ok(k >= gte && k < lt, JSON.stringify(k));
  for (const k of outside) assert.ok(!(k >= gte && k < lt), JSON.stringify(k));
});

test('children lists each direct child once, with its record when it has one', async () => {
  const db = new MemoryLevel<string, string>();
  const put = (k: string, v: unknown) => db.put(k, JSON.stringify(v));
  await put(pathKey('p', 'a'), 1);
  await put(pathKey('p', 'a', 'deep', 'er'), 2);
  await put(pathKey('p', 'a\x00'), 3);
  await put(pathKey('p', 'b', 'only-deeper'), 4);
  await put(pathKey('p', 'c'), 5);
  await put(pathKey('px'), 6);
  const view = new ReadView(db);
  const seen: Array<[string, unknown]> = [];
  for await (const c of view.children(pathKey('p'))) seen.push([c.name, c.value]);
  assert.deepEqual(seen, [
    ['a', 1],
    ['a\x00', 3],
    ['b', undefined],
    ['c', 5],
  ]);
  assert.equal(await view.hasChildren(pathKey('p', 'b')), true);
  assert.equal(await view.hasChildren(pathKey('p', 'c')), false);
  await db.close();
});
