import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNotImplemented } from '@ctrd/errdefs';
import { Differ, MediaType, compressionOf, isLayerMediaType, sniffCompression } from './index.js';

test('compressionOf maps OCI and Docker layer types and refuses others', () => {
  assert.equal(compressionOf(MediaType.OCILayer), 'uncompressed');
  assert.equal(compressionOf(MediaType.OCILayerGzip), 'gzip');
  assert.equal(compressionOf(MediaType.OCILayerZstd), 'zstd');
  assert.equal(compressionOf(MediaType.DockerLayerGzip), 'gzip');
  assert.equal(compressionOf(MediaType.DockerForeignLayerGzip), 'gzip');
  assert.throws(() => compressionOf('application/vnd.oci.image.manifest.v1+json'), isNotImplemented);
  assert.equal(isLayerMediaType('application/vnd.oci.image.layer.v1.tar+encrypted'), false);
});

test('sniffCompression reads gzip and zstd magic', () => {
  assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(sniffCompression(Buffer.from('etc/')), 'uncompressed');
  assert.equal(sniffCompression(Buffer.alloc(0)), 'uncompressed');
});

test('Differ is the io.containerd.differ.v1 token', () => {
  assert.equal(Differ.type, 'io.containerd.differ.v1');
});
