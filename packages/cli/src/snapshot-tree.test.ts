import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSnapshotTree } from './snapshot-tree.js';

test('renderSnapshotTree indents children under their parents', () => {
  const out = renderSnapshotTree([
    { name: 'base' },
    { name: 'mid', parent: 'base' },
    { name: 'top', parent: 'mid' },
    { name: 'other', parent: 'base' },
    { name: 'orphan', parent: 'gone' },
  ]);
  assert.equal(out, ' base\n  \\_ mid\n    \\_ top\n  \\_ other\n orphan\n');
  assert.equal(renderSnapshotTree([]), '');
});
