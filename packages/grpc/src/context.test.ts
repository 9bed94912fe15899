import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { callContext } from './context.js';

type FakeCall = EventEmitter & { cancelled: boolean; metadata: Metadata; writableEnded?: boolean };

function fakeCall(cancelled = false): FakeCall {
  const md = new Metadata();
  md.set('containerd-namespace', 'ns1');
  return Object.assign(new EventEmitter(), { cancelled, metadata: md });
}

test('callContext aborts the signal when the client cancels', () => {
  const call = fakeCall();
  const ctx = callContext(call as never, '/x/Y');
  const signal = ctx.signal;
  assert.equal(signal.aborted, false);
  call.emit('cancelled');
  assert.equal(signal.aborted, true);
  assert.equal((signal.reason as Error).message, 'call cancelled by the client');
  assert.equal(ctx.namespace, 'ns1');
});

test('callContext gives an aborted signal when asked after the cancellation', () => {
  const late = fakeCall();
  const ctx = callContext(late as never, '/x/Y');
  late.emit('cancelled');
  assert.equal(ctx.signal.aborted, true);
  assert.equal(ctx.signal, ctx.signal, 'one signal per call');
  assert.equal(callContext(fakeCall(true) as never, '/x/Y').signal.aborted, true);
});

test('callContext ignores a cancellation after all responses were written', () => {
  const call = fakeCall();
  const ctx = callContext(call as never, '/x/Y');
  const signal = ctx.signal;
  call.writableEnded = true;
  call.emit('cancelled');
  assert.equal(signal.aborted, false);
});
