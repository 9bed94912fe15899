import assert from 'node:assert/strict';
import { digestFromBytes } from '../digest.js';
import { readBlob, writeBlob } from '../helpers.js';
import { blob, collect, throwsWith, type SuiteCase } from './harness.js';

const MiB = 1024 * 1024;

/** readerCases cover readAt and stream at arbitrary offsets. */
export const readerCases: SuiteCase[] = [
  {
    name: 'reader: a small blob read with a larger buffer',
    async run({ store }) {
      const data = new TextEncoder().encode('foobar');
      const digest = digestFromBytes(data);
      const w = await store.writer({ ref: 'small', total: 6, expected: digest });
      await w.write(data);
      await w.commit(6, digest);
      await w.close();
      const ra = await store.readerAt({ digest });
      try {
        assert.equal(ra.size, 6);
        const buf = new Uint8Array(7);
        assert.equal(await ra.readAt(buf, 0), 6, 'short read at the end');
        assert.deepEqual(buf.subarray(0, 6), data);
        assert.deepEqual(await collect(ra.stream()), data, 'stream');
      } finally {
        await ra.close();
      }
      assert.deepEqual(await readBlob(store, { digest }), data, 'readBlob');
    },
  },
  {
    name: 'reader: readAt and stream at arbitrary offsets',
    async run({ store }) {
      const size = 3 * MiB + 17;
      const b = blob(size);
      await writeBlob(store, 'offsets', b.data, { digest: b.digest, size });
      const ra = await store.readerAt({ digest: b.digest, size });
      try {
        assert.equal(ra.size, size);
        const spots = [0, 1, 4095, MiB - 1, MiB, 2 * MiB + 5, size - 1];
        for (const off of spots) {
          for (const len of [1, 100, 70000, MiB + 3]) {
            const buf = new Uint8Array(len);
            const want = Math.min(len, size - off);
            let got = 0;
            while (got < want) {
              const n = await ra.readAt(buf.subarray(got), off + got);
              assert.ok(n > 0, `readAt(${off + got}) made progress`);
              got += n;
            }
            assert.equal(got, want);
            assert.deepEqual(buf.subarray(0, want), b.data.subarray(off, off + want), `readAt ${off}+${len}`);
          }
        }
        assert.equal(await ra.readAt(new Uint8Array(10), size), 0, 'readAt at the end');
        assert.equal(await ra.readAt(new Uint8Array(10), size + 10), 0, 'readAt past the end');
        await throwsWith(() => ra.readAt(new Uint8Array(1), -1), 'INVALID_ARGUMENT', 'negative offset');

        const ranges: Array<[number | undefined, number | undefined]> = [
          [undefined, undefined],
          [0, 0],
          [7, undefined],
          [MiB - 3, 10],
          [MiB + 1, 2 * MiB],
          [size - 5, 100],
          [size, undefined],
        ];
        for (const [off, len] of ranges) {
          const from = off ?? 0;
          const to = len === undefined || len <= 0 ? size : Math.min(size, from + len);
          const got = await collect(ra.stream(off, len));
          assert.equal(got.length, to - from, `stream(${off}, ${len}) length`);
          assert.equal(digestFromBytes(got), digestFromBytes(b.data.subarray(from, to)), `stream(${off}, ${len}) bytes`);
        }
        await throwsWith(() => collect(ra.stream(size + 1)), 'OUT_OF_RANGE', 'stream past the end');
        await throwsWith(() => collect(ra.stream(-1)), 'INVALID_ARGUMENT', 'stream at a negative offset');
      } finally {
        await ra.close();
        await ra.close();
      }
    },
  },
];
