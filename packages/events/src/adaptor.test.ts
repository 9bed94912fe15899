import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '@ctrd/filters';
import { envelopeAdaptor, type Envelope, type EventDecoder } from './index.js';

const envelope = (topic: string, payload: Record<string, unknown>, namespace = 'default'): Envelope => ({
  timestamp: new Date(),
  namespace,
  topic,
  event: { typeUrl: 'test.Event', value: new TextEncoder().encode(JSON.stringify(payload)) },
});

const decode: EventDecoder = (any) =>
  any.typeUrl === 'test.Event' ? (JSON.parse(new TextDecoder().decode(any.value)) as Record<string, unknown>) : undefined;

test('namespace and topic are served', () => {
  const a = envelopeAdaptor(envelope('/tasks/exit', {}, 'k8s.io'));
  assert.equal(a(['namespace']), 'k8s.io');
  assert.equal(a(['topic']), '/tasks/exit');
  assert.equal(a(['namespace', 'x']), undefined);
  assert.equal(a(['other']), undefined);
  assert.equal(a([]), undefined);
});

test('event fields come from the decoder, nested and map fields included', () => {
  const a = envelopeAdaptor(
    envelope('/containers/create', {
      id: 'c1',
      image: '',
      pid: 42,
      runtime: { name: 'io.containerd.runc.v2' },
      labels: { 'io.kubernetes.pod': 'p', plain: 'v' },
    }),
    decode,
  );
  assert.equal(a(['event', 'id']), 'c1');
  assert.equal(a(['event', 'image']), undefined, 'empty strings are absent');
  assert.equal(a(['event', 'pid']), undefined, 'only string fields are filterable');
  assert.equal(a(['event', 'runtime', 'name']), 'io.containerd.runc.v2');
  assert.equal(a(['event', 'labels', 'io', 'kubernetes', 'pod']), 'p');
  assert.equal(a(['event', 'labels', 'plain']), 'v');
  assert.equal(a(['event', 'runtime']), undefined);
  assert.equal(a(['event']), undefined);
});

test('the event is decoded once and decoder failures mean absent', () => {
  let calls = 0;
  const counting: EventDecoder = (any) => {
    calls++;
    return decode(any);
  };
  const a = envelopeAdaptor(envelope('/tasks/exit', { container_id: 'x', id: 'y' }), counting);
  assert.equal(a(['event', 'container_id']), 'x');
  assert.equal(a(['event', 'id']), 'y');
  assert.equal(calls, 1);

  const throwing = envelopeAdaptor(envelope('/tasks/exit', { id: 'y' }), () => {
    throw new Error('cannot decode');
  });
  assert.equal(throwing(['event', 'id']), undefined);
  assert.equal(envelopeAdaptor(envelope('/tasks/exit', { id: 'y' }))(['event', 'id']), undefined);
});

test('filters select envelopes through the adaptor', () => {
  const exit = envelopeAdaptor(envelope('/tasks/exit', { container_id: 'redis' }, 'k8s.io'), decode);
  assert.equal(parse('topic=="/tasks/exit",namespace==k8s.io').match(exit), true);
  assert.equal(parse('topic~=|^/tasks/|').match(exit), true);
  assert.equal(parse('event.container_id==redis').match(exit), true);
  assert.equal(parse('event.container_id==nginx').match(exit), false);
  assert.equal(parse('namespace==default').match(exit), false);
});
