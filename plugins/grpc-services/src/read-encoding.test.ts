import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadContentResponse } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { encodeReadResponse } from './read-encoding.js';

test('encodeReadResponse matches the generated encoder', () => {
  const data = Buffer.alloc(40000, 7);
  for (const offset of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    for (const d of [Buffer.alloc(0), data.subarray(0, 1), data.subarray(0, 200), data]) {
      const msg = { offset, data: d };
      const want = Buffer.from(ReadContentResponse.encode(msg).finish());
      assert.deepEqual(encodeReadResponse(msg), want, `offset ${offset}, ${d.length} bytes`);
      assert.deepEqual(ReadContentResponse.decode(encodeReadResponse(msg)), { offset, data: Buffer.from(d) });
    }
  }
  assert.deepEqual(encodeReadResponse({ offset: -1, data }), Buffer.from(ReadContentResponse.encode({ offset: -1, data }).finish()));
});
