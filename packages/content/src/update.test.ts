import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { validateLabel, validateLabels } from './labels.js';
import { applyLabelUpdate } from './update.js';

const D = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const current = Object.freeze({ a: '1', b: '2' });

test('no field paths, or "labels", replace every label', () => {
  assert.deepEqual(applyLabelUpdate(D, current, { c: '3' }), { c: '3' });
  assert.deepEqual(applyLabelUpdate(D, current, { c: '3', d: '' }, ['labels']), { c: '3' });
  assert.deepEqual(applyLabelUpdate(D, current, undefined), {});
});

test('labels.<key> edits one key', () => {
  assert.deepEqual(applyLabelUpdate(D, current, { a: 'x', b: 'ignored' }, ['labels.a']), { a: 'x', b: '2' });
  assert.deepEqual(applyLabelUpdate(D, current, { a: '' }, ['labels.a']), { b: '2' });
  assert.deepEqual(applyLabelUpdate(D, current, {}, ['labels.b', 'labels.z']), { a: '1' });
  assert.deepEqual(applyLabelUpdate(D, current, { 'x.y': 'z' }, ['labels.x.y']), { a: '1', b: '2', 'x.y': 'z' });
  assert.deepEqual(current, { a: '1', b: '2' }, 'current is untouched');
});

test('other paths are InvalidArgument', () => {
  for (const p of ['size', 'digest', 'labels.', 'label.a', '']) {
    assert.throws(() => applyLabelUpdate(D, current, {}, [p]), (e: unknown) => codeOf(e) === 'INVALID_ARGUMENT', p);
  }
  assert.throws(() => applyLabelUpdate(D, current, {}, ['size']), /cannot update "size" field on content info/);
});

test('labels are limited to 4096 bytes of key plus value', () => {
  validateLabel('k', 'v'.repeat(4095));
  assert.throws(() => validateLabel('k', 'v'.repeat(4096)), (e: unknown) => codeOf(e) === 'INVALID_ARGUMENT');
  assert.throws(() => validateLabel('k', 'é'.repeat(2048)), /greater than maximum size \(4096 bytes\), key: k/, 'bytes, not characters');
  assert.throws(() => applyLabelUpdate(D, current, { k: 'v'.repeat(5000) }), (e: unknown) => codeOf(e) === 'INVALID_ARGUMENT');
  validateLabels(undefined);
  assert.throws(() => validateLabels({ k: 1 as unknown as string }), (e: unknown) => codeOf(e) === 'INVALID_ARGUMENT');
});
