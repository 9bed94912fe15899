import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { validateLabels, validateLabel, MAX_LABEL_SIZE } from './index.js';

test('labels within the size limit are accepted', () => {
  assert.doesNotThrow(() => validateLabels(undefined));
  assert.doesNotThrow(() => validateLabels({}));
  assert.doesNotThrow(() =>
    validateLabels({ 'containerd.io/gc.root': '2024-01-01T00:00:00Z', empty: '' }),
  );
  // exactly at the limit
  assert.doesNotThrow(() => validateLabel('k', 'v'.repeat(MAX_LABEL_SIZE - 1)));
});

const cases: Array<[string, Record<string, string>, string]> = [
  [
    'one byte over the limit',
    { k: 'v'.repeat(MAX_LABEL_SIZE) },
    'label key and value greater than maximum size (4096 bytes), key: k',
  ],
  [
    'a long key is cut to ten characters',
    { 'containerd.io/very-long-key': 'x'.repeat(4096) },
    'label key and value greater than maximum size (4096 bytes), key: containerd',
  ],
  [
    'sizes are counted in bytes',
    { key: 'é'.repeat(2047) }, // 3 + 4094 bytes
    'label key and value greater than maximum size (4096 bytes), key: key',
  ],
  ['empty key', { '': 'x' }, 'label key must not be empty'],
];

for (const [name, labels, message] of cases) {
  test(`invalid labels: ${name}`, () => {
    assert.throws(
      () => validateLabels(labels),
      (err: unknown) => isInvalidArgument(err) && (err as Error).message === message,
    );
  });
}

test('the first bad label stops validation', () => {
  assert.throws(
    () => validateLabels({ ok: 'fine', '': 'bad', other: 'x'.repeat(5000) }),
    /label key must not be empty/,
  );
});
