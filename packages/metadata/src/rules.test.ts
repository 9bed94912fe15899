import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { digestProblem } from './digest.js';
import { dropsGcReferences, gcLabelRefs } from './gc-labels.js';
import { adaptImage, applyImageUpdate } from './image-rules.js';
import { applyContainerUpdate, containerFields } from './container-rules.js';
import { parseLeaseResource } from './lease-rules.js';
import { requireNamespace } from './rules-common.js';

const D = `sha256:${'0'.repeat(64)}`;

function codeOfCall(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return codeOf(err);
  }
  return 'OK';
}

test('digestProblem follows the OCI digest rules', () => {
  assert.equal(digestProblem(D), undefined);
  assert.equal(digestProblem(`sha512:${'a'.repeat(128)}`), undefined);
  assert.equal(digestProblem('sha256:abc'), 'invalid checksum digest length');
  assert.equal(digestProblem(`sha256:${'A'.repeat(64)}`), 'invalid checksum digest format');
  assert.equal(digestProblem(`md5:${'a'.repeat(32)}`), 'unsupported digest algorithm');
  assert.equal(digestProblem('sha256:'), 'invalid checksum digest format');
  assert.equal(digestProblem(''), 'invalid checksum digest format');
});

test('gcLabelRefs reads content and snapshot references in every accepted form', () => {
  const refs = gcLabelRefs({
    'containerd.io/gc.ref.content': 'a',
    'containerd.io/gc.ref.content.m.0': 'b',
    'containerd.io/gc.ref.content/x': 'c',
    'containerd.io/gc.ref.contents': 'no',
    'containerd.io/gc.ref.snapshot.overlayfs': 'k1',
    'containerd.io/gc.ref.snapshot.native/suffix': 'k2',
    'containerd.io/gc.root': 'no',
  });
  assert.deepEqual(refs, [
    { kind: 'content', digest: 'a' },
    { kind: 'content', digest: 'b' },
    { kind: 'content', digest: 'c' },
    { kind: 'snapshot', snapshotter: 'overlayfs', key: 'k1' },
    { kind: 'snapshot', snapshotter: 'native', key: 'k2' },
  ]);
});

test('applyImageUpdate leaves the current image untouched and drops emptied keys', () => {
  const current = { name: 'x', labels: { a: '1' }, target: { mediaType: 'm', digest: D, size: 1, annotations: { k: 'v' } } };
  const next = applyImageUpdate(current, { name: 'x', labels: { a: '' }, target: { ...current.target, annotations: {} } }, ['labels.a', 'annotations.k']);
  assert.deepEqual(next.labels, {});
  assert.equal(next.target.annotations, undefined);
  assert.deepEqual(current.labels, { a: '1' });
  assert.deepEqual(current.target.annotations, { k: 'v' });
});

test('adaptImage treats empty fields and maps as absent', () => {
  const a = adaptImage({ name: 'n', labels: {}, target: { mediaType: '', digest: D, size: 1 }, createdAt: new Date(), updatedAt: new Date() });
  assert.equal(a(['name']), 'n');
  assert.equal(a(['target', 'mediatype']), undefined);
  assert.equal(a(['labels', 'x']), undefined);
  assert.equal(a(['target']), undefined);
});

test('applyContainerUpdate keeps immutable fields under a mask', () => {
  const current = containerFields({ id: 'c', runtime: { name: 'r' }, spec: { typeUrl: 't', value: new Uint8Array() }, snapshotter: 's', snapshotKey: 'k' });
  const next = applyContainerUpdate(current, { id: 'c', runtime: { name: 'other' }, snapshotter: 'z', labels: { l: '1' } }, ['labels']);
  assert.equal(next.runtime.name, 'r');
  assert.equal(next.snapshotter, 's');
  assert.deepEqual(next.labels, { l: '1' });
});

test('parseLeaseResource classifies resource types', () => {
  assert.deepEqual(parseLeaseResource({ type: 'snapshots/overlayfs', id: 'k' }), { kind: 'snapshots', snapshotter: 'overlayfs', id: 'k' });
  assert.equal(codeOfCall(() => parseLeaseResource({ type: 'snapshots/a/b', id: 'k' })), 'INVALID_ARGUMENT');
  assert.equal(codeOfCall(() => parseLeaseResource({ type: 'ingests/x', id: 'k' })), 'INVALID_ARGUMENT');
  assert.equal(codeOfCall(() => parseLeaseResource({ type: 'images', id: 'k' })), 'NOT_IMPLEMENTED');
});

test('requireNamespace distinguishes a missing namespace from an invalid one', () => {
  assert.equal(codeOfCall(() => requireNamespace('')), 'FAILED_PRECONDITION');
  assert.equal(codeOfCall(() => requireNamespace('a..b')), 'INVALID_ARGUMENT');
  assert.equal(requireNamespace('k8s.io'), 'k8s.io');
});

test('dropsGcReferences: only removed, changed or restricting gc labels can free resources', () => {
  const ref = 'containerd.io/gc.ref.content.l.0';
  const snap = 'containerd.io/gc.ref.snapshot.overlayfs';
  assert.equal(dropsGcReferences({}, { [ref]: 'sha256:a', [snap]: 'k', 'containerd.io/gc.root': 'x' }), false, 'added references and roots keep more alive');
  assert.equal(dropsGcReferences({ a: '1' }, { a: '2', b: '3' }), false, 'other labels do not matter');
  assert.equal(dropsGcReferences({ a: '1', [ref]: 'sha256:a' }, { [ref]: 'sha256:a' }), false, 'a kept reference');
  assert.equal(dropsGcReferences({ [ref]: 'sha256:a' }, {}), true, 'a removed reference');
  assert.equal(dropsGcReferences({ [ref]: 'sha256:a' }, { [ref]: 'sha256:b' }), true, 'a retargeted reference');
  assert.equal(dropsGcReferences({ 'containerd.io/gc.root': 'x' }, {}), true, 'a removed root');
  assert.equal(dropsGcReferences({}, { 'containerd.io/gc.expire': '2030-01-01T00:00:00Z' }), true, 'an added expiry');
  assert.equal(dropsGcReferences({}, { 'containerd.io/gc.flat': '' }), true, 'an added flat marker');
});
