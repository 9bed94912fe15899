import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAll } from '@ctrd/filters';
import { adaptSnapshot } from './filter.js';
import { type Info, Kind, kindName, parseKind } from './snapshotter.js';

const info = (over: Partial<Info>): Info => ({
  kind: Kind.Active,
  name: 'n',
  labels: {},
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...over,
});

test('adaptSnapshot serves kind, name, parent and labels to filters', () => {
  const a = info({ name: 'a', parent: 'p', labels: { 'x.y': '1' } });
  const v = info({ name: 'v', kind: Kind.View });
  const match = (f: string, i: Info) => parseAll([f]).match(adaptSnapshot(i));
  assert.equal(match('kind==active', a), true);
  assert.equal(match('kind==view', a), false);
  assert.equal(match('kind==view', v), true);
  assert.equal(match('name==a', a), true);
  assert.equal(match('parent==p', a), true);
  assert.equal(match('parent!=""', v), false);
  assert.equal(match('parent==""', v), true);
  assert.equal(match('labels."x.y"==1', a), true);
  assert.equal(match('labels.z', a), false);
});

test('kind names round-trip as in containerd', () => {
  for (const k of [Kind.View, Kind.Active, Kind.Committed]) assert.equal(parseKind(kindName(k)), k);
  assert.equal(kindName(Kind.Committed), 'committed');
  assert.equal(parseKind('ACTIVE'), Kind.Active);
  assert.equal(parseKind('bogus'), Kind.Unknown);
  assert.deepEqual([Kind.View, Kind.Active, Kind.Committed], [1, 2, 3]);
});
