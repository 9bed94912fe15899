import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptLabels, objectAdaptor, parse } from './index.js';

test('adaptLabels joins the rest of the path into the key', () => {
  const labels = { 'containerd.io/gc.root': 'x', foo: '', plain: 'v' };
  assert.equal(adaptLabels(labels, ['containerd', 'io/gc', 'root']), 'x');
  assert.equal(adaptLabels(labels, ['containerd.io/gc', 'root']), 'x');
  assert.equal(adaptLabels(labels, ['plain']), 'v');
  assert.equal(adaptLabels(labels, ['foo']), '', 'an empty label value is present');
  assert.equal(adaptLabels(labels, ['missing']), undefined);
  assert.equal(adaptLabels(labels, []), undefined);
  assert.equal(adaptLabels(undefined, ['plain']), undefined);
  assert.equal(adaptLabels(labels, ['toString']), undefined, 'prototype members are not labels');
});

test('objectAdaptor serves strings, maps and dotted names', () => {
  const a = objectAdaptor({
    name: 'docker.io/library/redis:7',
    parent: '',
    'runtime.name': 'io.containerd.runc.v2',
    labels: { 'foo.bar': 'baz', empty: '' },
    target: { digest: 'sha256:abc', mediatype: 'application/json' },
    absent: undefined,
  });
  assert.equal(a(['name']), 'docker.io/library/redis:7');
  assert.equal(a(['parent']), undefined, 'an empty string field is absent');
  assert.equal(a(['runtime', 'name']), 'io.containerd.runc.v2');
  assert.equal(a(['labels', 'foo', 'bar']), 'baz');
  assert.equal(a(['labels', 'foo.bar']), 'baz');
  assert.equal(a(['labels', 'empty']), '');
  assert.equal(a(['labels']), undefined);
  assert.equal(a(['target', 'digest']), 'sha256:abc');
  assert.equal(a(['name', 'extra']), undefined);
  assert.equal(a(['absent']), undefined);
  assert.equal(a(['nothing']), undefined);
  assert.equal(a([]), undefined);
});

test('objectAdaptor drives filters as containerd adaptors do', () => {
  const snapshot = (name: string, parent: string) =>
    objectAdaptor({ name, parent, kind: 'committed', labels: { 'containerd.io/snapshot.ref': name } });
  const f = parse('kind==committed,parent');
  assert.equal(f.match(snapshot('layer2', 'layer1')), true);
  assert.equal(f.match(snapshot('layer1', '')), false);
  const g = parse('labels."containerd.io/snapshot.ref"~=^layer[12]$');
  assert.equal(g.match(snapshot('layer2', 'layer1')), true);
  assert.equal(g.match(snapshot('layer3', 'layer2')), false);
});
