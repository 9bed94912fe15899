import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { adaptInfo, adaptStatus, parseFilters } from './adaptors.js';
import type { Info, Status } from './types.js';

const info: Info = {
  digest: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  size: 42,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  labels: { 'containerd.io/gc.root': 'x', 'a.b': 'c' },
};
const status: Status = { ref: 'pull/layer-1', offset: 1, total: 2, expected: '', startedAt: new Date(0), updatedAt: new Date(0) };

test('adaptInfo exposes digest, size and labels', () => {
  const a = adaptInfo(info);
  assert.equal(a(['digest']), info.digest);
  assert.equal(a(['size']), '42');
  assert.equal(a(['labels', 'containerd.io/gc.root']), 'x');
  assert.equal(a(['labels', 'a', 'b']), 'c');
  assert.equal(a(['labels']), undefined);
  assert.equal(a(['labels', 'nope']), undefined);
  assert.equal(a(['createdAt']), undefined);
});

test('content filters select through the adaptor', () => {
  const m = (fs: string[]): boolean => parseFilters(fs).match(adaptInfo(info));
  assert.ok(m([]));
  assert.ok(m(['size==42']));
  assert.ok(!m(['size==41']));
  assert.ok(m(['labels."containerd.io/gc.root"']));
  assert.ok(m(['labels.a.b==c']));
  assert.ok(m([`digest==${info.digest}`, 'size==1']));
  assert.throws(() => parseFilters(['==']), (e: unknown) => codeOf(e) === 'INVALID_ARGUMENT');
});

test('adaptStatus exposes only ref', () => {
  const a = adaptStatus(status);
  assert.equal(a(['ref']), 'pull/layer-1');
  assert.equal(a(['offset']), undefined);
  assert.ok(parseFilters(['']).match(a));
  assert.ok(parseFilters(['ref~=^pull/']).match(a));
  assert.ok(!parseFilters(['ref==x']).match(a));
});
