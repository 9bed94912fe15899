import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFailedPrecondition } from '@ctrd/errdefs';
import { graph } from './graph.js';
import type { Registration } from './types.js';

const reg = (type: string, id: string, requires: string[] = []): Registration => ({ type, id, requires, init: () => ({}) });
const uris = (rs: Registration[]) => rs.map((r) => `${r.type}.${r.id}`);

test('orders by requires, keeping registration order otherwise', () => {
  const rs = [reg('grpc', 'content', ['service']), reg('content', 'local'), reg('service', 'content', ['metadata']), reg('metadata', 'level', ['content'])];
  assert.deepEqual(uris(graph(rs)), ['content.local', 'metadata.level', 'service.content', 'grpc.content']);
});

test('a requirement by type pulls in every plugin of that type', () => {
  const rs = [reg('meta', 'm', ['snap']), reg('snap', 'a'), reg('snap', 'b')];
  assert.deepEqual(uris(graph(rs)), ['snap.a', 'snap.b', 'meta.m']);
});

test('"*" comes after every other plugin', () => {
  const rs = [reg('all', 'x', ['*']), reg('a', '1'), reg('b', '2', ['a']), reg('all2', 'y', ['*'])];
  const order = uris(graph(rs));
  assert.deepEqual(order.slice(0, 2), ['a.1', 'b.2']);
  assert.ok(order.indexOf('all.x') > 1 && order.indexOf('all2.y') > 1);
  assert.equal(order.length, 4);
});

test('disabled plugins are removed before ordering', () => {
  const rs = [reg('a', '1', ['b']), reg('b', '2')];
  assert.deepEqual(uris(graph(rs, new Set(['b.2']))), ['a.1']);
});

test('cycles are rejected naming the path', () => {
  const rs = [reg('a', '1', ['b']), reg('b', '2', ['c']), reg('c', '3', ['a'])];
  assert.throws(() => graph(rs), (e: Error) => isFailedPrecondition(e) && e.message.includes('a.1 -> b.2 -> c.3 -> a.1'));
});

test('a plugin requiring its own type is not a cycle', () => {
  const rs = [reg('snap', 'proxy', ['snap']), reg('snap', 'native')];
  assert.deepEqual(uris(graph(rs)), ['snap.native', 'snap.proxy']);
});
