import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { isFailedPrecondition, isInvalidArgument } from '@ctrd/errdefs';
import { callContext } from './context.js';

type FakeCall = EventEmitter & { cancelled: boolean; metadata: Metadata; writableEnded?: boolean; cancel(): void };

/** fakeCall stands for a grpc-js server call, which sets `cancelled` as it emits the event. */
function fakeCall(cancelled = false): FakeCall {
  const md = new Metadata();
  md.set('containerd-namespace', 'ns1');
  const call = Object.assign(new EventEmitter(), {
    cancelled,
    metadata: md,
    cancel() {
      call.cancelled = true;
      call.emit('cancelled', 'cancelled');
    },
  });
  return call;
}

test('callContext aborts the signal when the client cancels', () => {
  const call = fakeCall();
  const ctx = callContext(call as never, '/x/Y');
  const signal = ctx.signal;
  assert.equal(signal.aborted, false);
  call.cancel();
  assert.equal(signal.aborted, true);
  assert.equal((signal.reason as Error).message, 'call cancelled by the client');
  assert.equal(ctx.namespace, 'ns1');
});

test('callContext gives an aborted signal when asked after the cancellation', () => {
  const late = fakeCall();
  const ctx = callContext(late as never, '/x/Y');
  late.cancel();
  assert.equal(ctx.signal.aborted, true);
  assert.equal(ctx.signal, ctx.signal, 'one signal per call');
  assert.equal(callContext(fakeCall(true) as never, '/x/Y').signal.aborted, true);
});

test('callContext ignores a cancellation after all responses were written', () => {
  const call = fakeCall();
  const ctx = callContext(call as never, '/x/Y');
  const signal = ctx.signal;
  call.writableEnded = true;
  call.cancel();
  assert.equal(signal.aborted, false);
});

test('callContext registers nothing on the call until the signal is asked for', () => {
  const call = fakeCall();
  const ctx = callContext(call as never, '/x/Y');
  assert.equal(ctx.namespace, 'ns1');
  assert.equal(ctx.cancelled, false);
  assert.equal(call.listenerCount('cancelled'), 0);
  const signal = ctx.signal;
  assert.equal(call.listenerCount('cancelled'), 1);
  call.cancel();
  assert.equal(ctx.cancelled, true);
  assert.equal(signal.aborted, true);
});

test('callContext reads the namespace header once and keeps its errors', () => {
  const call = fakeCall();
  let reads = 0;
  const get = call.metadata.get.bind(call.metadata);
  call.metadata.get = (key: string) => {
    if (key === 'containerd-namespace') reads++;
    return get(key);
  };
  const ctx = callContext(call as never, '/x/Y');
  assert.equal(ctx.namespaceOrUndefined, 'ns1');
  assert.equal(ctx.namespace, 'ns1');
  assert.equal(ctx.namespace, 'ns1');
  assert.equal(reads, 1);
  assert.equal(ctx.method, '/x/Y');
  assert.equal(ctx.metadata, call.metadata);

  const none = fakeCall();
  none.metadata.remove('containerd-namespace');
  const bare = callContext(none as never, '/x/Y');
  assert.equal(bare.namespaceOrUndefined, undefined);
  assert.equal(bare.lease, undefined);
  for (let i = 0; i < 2; i++) assert.throws(() => bare.namespace, (e: Error) => isFailedPrecondition(e) && e.message === 'namespace is required');
  const bad = fakeCall();
  bad.metadata.set('containerd-namespace', 'a..b');
  assert.throws(() => callContext(bad as never, '/x/Y').namespace, isInvalidArgument);
  const leased = fakeCall();
  leased.metadata.set('containerd-lease', 'l1, l2');
  assert.equal(callContext(leased as never, '/x/Y').lease, 'l1');
});
