import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { codeOf, isInvalidArgument } from '@ctrd/errdefs';
import type { Envelope, EventDecoder, EventPayload } from '@ctrd/events';
import { createExchange } from './index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Test events carry JSON, which the test decoder reads back for `event.*` filters. */
const payload = (fields: Record<string, unknown> = {}): EventPayload => ({
  typeUrl: 'containerd.events.Test',
  value: enc.encode(JSON.stringify(fields)),
});
const decodeEvent: EventDecoder = (any) =>
  any.typeUrl === 'containerd.events.Test' ? (JSON.parse(dec.decode(any.value)) as Record<string, unknown>) : undefined;

async function take(stream: AsyncIterable<Envelope>, n: number): Promise<Envelope[]> {
  const it = stream[Symbol.asyncIterator]();
  const out: Envelope[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const seqs = (envs: Envelope[]): number[] => envs.map((e) => e.sequence!);

function rejectsWith(code: string, message: string | RegExp) {
  return (err: unknown): boolean => {
    assert.equal(codeOf(err), code, String(err));
    if (typeof message === 'string') assert.equal((err as Error).message, message);
    else assert.match((err as Error).message, message);
    return true;
  };
}

test('a published event reaches a subscriber as a sealed, numbered envelope', async () => {
  const ex = createExchange();
  const sub = ex.subscribe();
  const before = Date.now();
  await ex.publish('default', '/namespaces/create', payload({ name: 'x' }));
  const [env] = await take(sub, 1);
  assert.ok(env);
  assert.equal(env.namespace, 'default');
  assert.equal(env.topic, '/namespaces/create');
  assert.equal(env.event.typeUrl, 'containerd.events.Test');
  assert.equal(env.sequence, 1);
  assert.ok(env.timestamp.getTime() >= before && env.timestamp.getTime() <= Date.now());
  assert.ok(Object.isFrozen(env));
  assert.equal(ex.lastSequence, 1);
  ex.close();
});

test('a retained envelope keeps only the type url and bytes of the event it was given', async () => {
  const ex = createExchange();
  // A decoded request can carry more than the Any: none of it may live on in the replay ring.
  const request = { typeUrl: 'containerd.events.Test', value: enc.encode('{"id":"a"}'), extra: new Uint8Array(1 << 16) };
  await ex.publish('default', '/tasks/exit', request);
  await ex.forward({ timestamp: new Date(), namespace: 'default', topic: '/tasks/exit', event: { ...request } });
  const replayed = await take(ex.subscribe({ after: 0 }), 2);
  assert.equal(replayed.length, 2);
  for (const env of replayed) {
    assert.deepEqual(Object.keys(env.event), ['typeUrl', 'value']);
    assert.equal(env.event.typeUrl, 'containerd.events.Test');
    assert.equal(dec.decode(env.event.value), '{"id":"a"}');
    assert.ok(Object.isFrozen(env.event));
  }
  ex.close();
});

test('envelopes arrive in publish order across namespaces and topics', async () => {
  const ex = createExchange();
  const sub = ex.subscribe();
  for (let i = 0; i < 100; i++) {
    await ex.publish(i % 2 ? 'k8s.io' : 'default', i % 3 ? '/tasks/start' : '/tasks/exit', payload({ id: `${i}` }));
  }
  const got = await take(sub, 100);
  assert.deepEqual(seqs(got), Array.from({ length: 100 }, (_, i) => i + 1));
  assert.deepEqual(
    got.map((e) => (JSON.parse(dec.decode(e.event.value)) as { id: string }).id),
    Array.from({ length: 100 }, (_, i) => `${i}`),
  );
  ex.close();
});

test('filters select by namespace, topic and event field; strings are OR-ed', async () => {
  const ex = createExchange({ decodeEvent });
  const byNs = ex.subscribe({ filters: ['namespace==k8s.io'] });
  const byTopic = ex.subscribe({ filters: ['topic=="/tasks/exit"'] });
  const byField = ex.subscribe({ filters: ['event.container_id==redis,namespace==default'] });
  const either = ex.subscribe({ filters: ['topic~=^/containers/', 'event.container_id==nginx'] });
  const everything = ex.subscribe({ filters: [''] });

  await ex.publish('default', '/tasks/exit', payload({ container_id: 'redis' }));
  await ex.publish('k8s.io', '/tasks/exit', payload({ container_id: 'nginx' }));
  await ex.publish('k8s.io', '/containers/create', payload({ id: 'c' }));
  await ex.publish('default', '/tasks/start', payload({ container_id: 'redis' }));
  ex.close();

  const all = async (s: AsyncIterable<Envelope>) => seqs(await take(s, 100));
  assert.deepEqual(await all(byNs), [2, 3]);
  assert.deepEqual(await all(byTopic), [1, 2]);
  assert.deepEqual(await all(byField), [1, 4]);
  assert.deepEqual(await all(either), [2, 3]);
  assert.deepEqual(await all(everything), [1, 2, 3, 4]);
});

test('a bad filter is refused when subscribing', () => {
  const ex = createExchange();
  assert.throws(
    () => ex.subscribe({ filters: ['topic==/tasks/exit'] }),
    rejectsWith('INVALID_ARGUMENT', /^failed parsing subscription filters: filters: parse error: \[topic== >\|\/\|< tasks\/exit\]/),
  );
  assert.equal(ex.subscriberCount, 0);
});

test('publish validates namespace, topic and event', async () => {
  const ex = createExchange();
  await assert.rejects(ex.publish('', '/a', payload()), rejectsWith('FAILED_PRECONDITION', 'failed publishing event: namespace is required'));
  await assert.rejects(
    ex.publish('bad..ns', '/a', payload()),
    rejectsWith('INVALID_ARGUMENT', /^failed publishing event: namespace validation: identifier "bad..ns" must match/),
  );
  await assert.rejects(ex.publish('default', '', payload()), rejectsWith('INVALID_ARGUMENT', 'envelope topic "": must not be empty'));
  await assert.rejects(ex.publish('default', 'tasks', payload()), rejectsWith('INVALID_ARGUMENT', `envelope topic "tasks": must start with '/'`));
  await assert.rejects(
    ex.publish('default', '/tasks/a b', payload()),
    rejectsWith('INVALID_ARGUMENT', /^envelope topic "\/tasks\/a b": failed validation on component "a b"/),
  );
  await assert.rejects(ex.publish('default', '/a', { typeUrl: '', value: new Uint8Array() }), rejectsWith('INVALID_ARGUMENT', 'event must have a type url'));
  assert.equal(ex.lastSequence, 0, 'nothing invalid was numbered');
});

test('forward keeps the envelope and validates it', async () => {
  const ex = createExchange();
  const sub = ex.subscribe();
  const ts = new Date('2024-05-01T12:00:00.123Z');
  await ex.forward({ timestamp: ts, namespace: 'default', topic: '/tasks/exit', event: payload(), sequence: 99 });
  const [env] = await take(sub, 1);
  assert.equal(env!.timestamp.toISOString(), '2024-05-01T12:00:00.123Z');
  assert.notEqual(env!.timestamp, ts, 'the timestamp is copied');
  assert.equal(env!.sequence, 1, 'the exchange numbers envelopes itself');

  const base = { timestamp: ts, namespace: 'default', topic: '/tasks/exit', event: payload() };
  await assert.rejects(
    ex.forward({ ...base, namespace: '' }),
    rejectsWith('INVALID_ARGUMENT', 'event envelope has invalid namespace: identifier must not be empty'),
  );
  await assert.rejects(ex.forward({ ...base, topic: '/' }), rejectsWith('INVALID_ARGUMENT', 'envelope topic "/": must have at least one component'));
  for (const timestamp of [new Date(0), new Date(NaN), new Date('0001-01-01T00:00:00Z'), undefined as unknown as Date]) {
    await assert.rejects(ex.forward({ ...base, timestamp }), rejectsWith('INVALID_ARGUMENT', 'timestamp must be set on forwarded event'));
  }
  ex.close();
});

test('a subscription is live from the moment subscribe returns', async () => {
  const ex = createExchange();
  const sub = ex.subscribe();
  await ex.publish('default', '/a', payload());
  await ex.publish('default', '/b', payload());
  assert.deepEqual((await take(sub, 2)).map((e) => e.topic), ['/a', '/b']);
  ex.close();
});

test('after replays retained matches, then continues live with no gap or duplicate', async () => {
  const ex = createExchange();
  for (let i = 1; i <= 5; i++) await ex.publish(i % 2 ? 'default' : 'other', '/t', payload());
  const sub = ex.subscribe({ after: 2 });
  const filtered = ex.subscribe({ after: 0, filters: ['namespace==default'] });
  const fromStart = ex.subscribe({ after: 0 });
  const live = ex.subscribe();
  for (let i = 6; i <= 8; i++) await ex.publish(i % 2 ? 'default' : 'other', '/t', payload());
  ex.close();
  assert.deepEqual(seqs(await take(sub, 100)), [3, 4, 5, 6, 7, 8]);
  assert.deepEqual(seqs(await take(filtered, 100)), [1, 3, 5, 7]);
  assert.deepEqual(seqs(await take(fromStart, 100)), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(seqs(await take(live, 100)), [6, 7, 8]);
});

test('replay is limited to the ring; after in the future replays nothing', async () => {
  const ex = createExchange({ ringSize: 3 });
  for (let i = 0; i < 5; i++) await ex.publish('default', '/t', payload());
  const old = ex.subscribe({ after: 0 });
  const future = ex.subscribe({ after: 1000 });
  await ex.publish('default', '/t', payload());
  ex.close();
  assert.deepEqual(seqs(await take(old, 100)), [3, 4, 5, 6]);
  assert.deepEqual(seqs(await take(future, 100)), [6]);
  assert.throws(() => createExchange().subscribe({ after: -1 }), (err: unknown) => isInvalidArgument(err));
  assert.throws(() => createExchange().subscribe({ after: 1.5 }), (err: unknown) => isInvalidArgument(err));
});

test('a slow subscriber overflows alone and learns how much it missed', async () => {
  const ex = createExchange({ queueSize: 4 });
  const slow = ex.subscribe();
  const fast = ex.subscribe();
  const fastSeen = take(fast, 10);
  const selective = ex.subscribe({ filters: ['topic=="/even"'] });
  for (let i = 1; i <= 10; i++) await ex.publish('default', i % 2 ? '/odd' : '/even', payload());
  // publishing never waited on the slow subscriber
  assert.equal(ex.lastSequence, 10);
  assert.deepEqual(seqs(await fastSeen), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

  const it = slow[Symbol.asyncIterator]();
  const got: number[] = [];
  for (let i = 0; i < 4; i++) got.push((await it.next()).value!.sequence);
  assert.deepEqual(got, [1, 2, 3, 4], 'what was queued before the overflow is delivered');
  await assert.rejects(
    it.next(),
    rejectsWith('RESOURCE_EXHAUSTED', 'event subscriber fell behind: missed 6 events after sequence 4 (queue limit 4)'),
  );
  assert.deepEqual(await it.next(), { done: true, value: undefined });

  // only 5 /even events were selected, and 4 fit: one missed
  const sit = selective[Symbol.asyncIterator]();
  for (let i = 0; i < 4; i++) await sit.next();
  await assert.rejects(sit.next(), rejectsWith('RESOURCE_EXHAUSTED', /missed 1 events after sequence 8 /));

  // the missed events can be recovered from the ring
  const resumed = ex.subscribe({ after: 4 });
  await ex.publish('default', '/odd', payload());
  assert.deepEqual(seqs(await take(resumed, 7)), [5, 6, 7, 8, 9, 10, 11]);
  assert.equal(ex.subscriberCount, 2, 'the overflowed subscriptions are gone');
  ex.close();
});

test('abort ends a waiting subscription at once and detaches from the signal', async () => {
  const ex = createExchange();
  const ac = new AbortController();
  const sub = ex.subscribe({ signal: ac.signal });
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
  const it = sub[Symbol.asyncIterator]();
  const pending = it.next();
  ac.abort();
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.equal(ex.subscriberCount, 0);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  await ex.publish('default', '/a', payload());
  assert.deepEqual(await it.next(), { done: true, value: undefined });
  ex.close();
});

test('abort drops queued envelopes; an aborted signal gives an empty stream', async () => {
  const ex = createExchange();
  const ac = new AbortController();
  const sub = ex.subscribe({ signal: ac.signal });
  await ex.publish('default', '/a', payload());
  ac.abort();
  assert.deepEqual(await take(sub, 10), []);
  const dead = ex.subscribe({ signal: AbortSignal.abort() });
  assert.equal(ex.subscriberCount, 0);
  await ex.publish('default', '/a', payload());
  assert.deepEqual(await take(dead, 10), []);
  ex.close();
});

test('breaking out of for-await unsubscribes', async () => {
  const ex = createExchange();
  const sub = ex.subscribe();
  await ex.publish('default', '/a', payload());
  await ex.publish('default', '/b', payload());
  for await (const env of sub) {
    assert.equal(env.topic, '/a');
    break;
  }
  assert.equal(ex.subscriberCount, 0);
  ex.close();
});

test('close drains queues, ends waiting subscriptions and refuses further use', async () => {
  const ex = createExchange();
  const waiting = ex.subscribe();
  const pending = waiting[Symbol.asyncIterator]().next();
  const queued = ex.subscribe({ filters: ['topic=="/b"'] });
  await ex.publish('default', '/a', payload());
  await ex.publish('default', '/b', payload());
  assert.equal((await pending).value?.topic, '/a');
  const ac = new AbortController();
  const watched = ex.subscribe({ signal: ac.signal });
  ex.close();
  ex.close();
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  assert.deepEqual(seqs(await take(queued, 10)), [2]);
  assert.deepEqual(seqs(await take(watched, 10)), []);
  assert.equal(ex.subscriberCount, 0);
  await assert.rejects(ex.publish('default', '/a', payload()), rejectsWith('UNAVAILABLE', 'event exchange is closed'));
  await assert.rejects(ex.forward({ timestamp: new Date(), namespace: 'default', topic: '/a', event: payload() }), rejectsWith('UNAVAILABLE', 'event exchange is closed'));
  assert.throws(() => ex.subscribe(), rejectsWith('UNAVAILABLE', 'event exchange is closed'));
});

test('a waiting close resolves a pending next', async () => {
  const ex = createExchange();
  const sub = ex.subscribe();
  const pending = sub[Symbol.asyncIterator]().next();
  ex.close();
  assert.deepEqual(await pending, { done: true, value: undefined });
});

test('1,000 subscribers each receive the one event', async () => {
  const ex = createExchange();
  const subs = Array.from({ length: 1000 }, () => ex.subscribe());
  const received = Promise.all(subs.map((s) => take(s, 1)));
  await ex.publish('default', '/tasks/oom', payload({ container_id: 'c' }));
  const got = await received;
  assert.equal(got.length, 1000);
  for (const envs of got) assert.deepEqual(seqs(envs), [1]);
  assert.equal(new Set(got.map((e) => e[0])).size, 1, 'they share one envelope');
  ex.close();
  for (const s of subs) assert.deepEqual(await take(s, 1), []);
});

test('options are checked', () => {
  assert.throws(() => createExchange({ ringSize: -1 }), (err: unknown) => isInvalidArgument(err));
  assert.throws(() => createExchange({ queueSize: 0 }), (err: unknown) => isInvalidArgument(err));
  assert.doesNotThrow(() => createExchange({ ringSize: 0 }).close());
});
