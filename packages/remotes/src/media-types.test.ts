import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MANIFEST_ACCEPT, MediaTypes, isConfigType, isIndexType, isLayerType, isLocalhost, isManifestOrIndexType,
  isManifestType, layerCompression, hasCapability, type RegistryHost,
} from './index.js';

test('media type predicates', () => {
  assert.ok(isManifestType(MediaTypes.ociManifest));
  assert.ok(isManifestType(`${MediaTypes.dockerManifest}; charset=utf-8`));
  assert.equal(isManifestType(MediaTypes.ociIndex), false);
  assert.ok(isIndexType(MediaTypes.dockerManifestList));
  assert.ok(isManifestOrIndexType(MediaTypes.dockerSchema1Manifest));
  assert.equal(isManifestOrIndexType(MediaTypes.ociLayerGzip), false);
  assert.ok(isConfigType(MediaTypes.dockerConfig));
  assert.ok(isLayerType(MediaTypes.dockerLayerForeignGzip));
  assert.equal(isLayerType(MediaTypes.ociConfig), false);
  assert.equal(layerCompression(MediaTypes.ociLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaTypes.dockerLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaTypes.ociLayerZstd), 'zstd');
  assert.equal(layerCompression(MediaTypes.ociLayer), 'none');
  for (const mt of [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerManifestList]) {
    assert.ok(MANIFEST_ACCEPT.includes(mt));
  }
});

test('isLocalhost and capabilities', () => {
  for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.1:5000', '127.1.2.3:80', '[::1]:5000', '::1']) assert.ok(isLocalhost(h), h);
  for (const h of ['docker.io', '10.0.0.1:5000', '128.0.0.1', 'localhost.example.com', '127.0.0.256']) assert.equal(isLocalhost(h), false, h);
  const host: RegistryHost = { scheme: 'https', host: 'm', path: '/v2', capabilities: ['pull', 'resolve'] };
  assert.ok(hasCapability(host, 'pull', 'resolve'));
  assert.equal(hasCapability(host, 'push'), false);
});
