import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadContentRequest, ReadContentResponse } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { ListImagesRequest, ListImagesResponse } from '@ctrd/api/gen/containerd/services/images/v1/images.js';
import { UsageRequest, UsageResponse } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import {
  decodeListImagesResponse,
  decodeReadContentResponse,
  decodeUsageResponse,
  encodeListImagesRequest,
  encodeReadContentRequest,
  encodeUsageRequest,
} from './images-ls-wire.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('the requests decode with the generated decoders', () => {
  assert.deepEqual(ListImagesRequest.decode(encodeListImagesRequest(['name==a', 'labels.x==y'])), { filters: ['name==a', 'labels.x==y'] });
  assert.deepEqual(ListImagesRequest.decode(encodeListImagesRequest([])), { filters: [] });
  assert.deepEqual(ReadContentRequest.decode(encodeReadContentRequest(DIGEST)), { digest: DIGEST, offset: 0, size: 0 });
  assert.deepEqual(UsageRequest.decode(encodeUsageRequest('overlayfs', 'sha256:k')), { snapshotter: 'overlayfs', key: 'sha256:k' });
});

test('decodeListImagesResponse gives images shaped as the full client gives them', () => {
  const wire = ListImagesResponse.encode({
    images: [
      {
        name: 'docker.io/library/busybox:latest',
        labels: { b: '2', a: '1', empty: '' },
        target: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: DIGEST, size: 2 ** 33 + 1, annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
        createdAt: { seconds: 1_700_000_000, nanos: 123_999_999 },
        updatedAt: { seconds: -62135596800, nanos: 0 },
      },
      { name: 'bare', labels: {}, target: { mediaType: 'm', digest: 'd', size: 0, annotations: {} } },
      { name: 'no-target', labels: {} },
    ],
  }).finish();
  assert.deepEqual(decodeListImagesResponse(wire), [
    {
      name: 'docker.io/library/busybox:latest',
      labels: { b: '2', a: '1', empty: '' },
      target: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: DIGEST, size: 2 ** 33 + 1, annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
      createdAt: new Date(1_700_000_000_123),
      updatedAt: new Date(0),
    },
    { name: 'bare', labels: {}, target: { mediaType: 'm', digest: 'd', size: 0 }, createdAt: new Date(0), updatedAt: new Date(0) },
    { name: 'no-target', labels: {}, target: { mediaType: '', digest: '', size: 0 }, createdAt: new Date(0), updatedAt: new Date(0) },
  ]);
  // Key order decides the JSON output byte for byte.
  const [first] = decodeListImagesResponse(wire);
  assert.deepEqual(Object.keys(first!), ['name', 'labels', 'target', 'createdAt', 'updatedAt']);
  assert.deepEqual(Object.keys(first!.labels), ['b', 'a', 'empty']);
  assert.deepEqual(decodeListImagesResponse(new Uint8Array(0)), []);
  assert.throws(() => decodeListImagesResponse(Uint8Array.from([0x0a, 3, 0x0a])), /truncated/);
});

test('decodeReadContentResponse and decodeUsageResponse read what the generated encoders write', () => {
  const data = Buffer.from([1, 2, 3, 250]);
  const r = decodeReadContentResponse(ReadContentResponse.encode({ offset: 4096, data }).finish());
  assert.equal(r.offset, 4096);
  assert.deepEqual([...r.data], [...data]);
  assert.deepEqual(decodeReadContentResponse(ReadContentResponse.encode({ offset: 0, data: Buffer.alloc(0) }).finish()).data.length, 0);
  assert.deepEqual(decodeUsageResponse(UsageResponse.encode({ size: 2_048_000, inodes: 17 }).finish()), { size: 2_048_000, inodes: 17 });
  assert.deepEqual(decodeUsageResponse(new Uint8Array(0)), { size: 0, inodes: 0 });
});
