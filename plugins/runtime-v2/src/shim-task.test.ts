import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeleteResponse,
  StartResponse,
  StateRequest,
  StateResponse,
  TaskDefinition,
  WaitResponse,
} from '@ctrd/api/gen/containerd/runtime/v2/task/shim.js';
import { Status } from '@ctrd/api/gen/containerd/types/task/task.js';
import { NotFoundError } from '@ctrd/errdefs';
import type { TtrpcClient } from '@ctrd/ttrpc';
import { Bundle } from './bundle.js';
import { ShimTask } from './shim-task.js';

const EXITED_AT = { seconds: 1_700_000_000, nanos: 5 };
const IO = { stdin: '/f/in', stdout: '/f/out', stderr: '/f/err', terminal: false };

/**
 * StandInShim answers the shim calls ShimTask makes, as a shim serving one task would, and
 * records the methods it was asked. `state` answers from `states` (NotFound when absent).
 */
class StandInShim {
  readonly asked: string[] = [];
  readonly states = new Map<string, StateResponse>();

  client(): TtrpcClient {
    return { call: (_service: string, method: string, payload: Uint8Array) => this.call(method, payload) } as unknown as TtrpcClient;
  }

  private async call(method: string, payload: Uint8Array): Promise<Uint8Array> {
    this.asked.push(method);
    const out = TaskDefinition.methods[(method[0]!.toLowerCase() + method.slice(1)) as keyof typeof TaskDefinition.methods]
      .responseType as { encode(m: unknown): { finish(): Uint8Array }; fromPartial(m: unknown): unknown };
    switch (method) {
      case 'Start':
        return StartResponse.encode({ pid: 4242 }).finish();
      case 'Wait':
        return WaitResponse.encode({ exitStatus: 3, exitedAt: EXITED_AT }).finish();
      case 'Delete':
        return DeleteResponse.encode({ pid: 4242, exitStatus: 3, exitedAt: EXITED_AT }).finish();
      case 'State': {
        const s = this.states.get(StateRequest.decode(payload).execId);
        if (s === undefined) throw new NotFoundError('process does not exist');
        return StateResponse.encode(s).finish();
      }
      default:
        return out.encode(out.fromPartial({})).finish();
    }
  }
}

function running(execId: string): StateResponse {
  return StateResponse.fromPartial({ id: execId, pid: 4242, status: Status.RUNNING, ...IO, execId });
}

function taskOn(shim: StandInShim): ShimTask {
  return new ShimTask({ bundle: Bundle.at('/s', '/w', 'ns', 'c1'), runtime: 'io.containerd.ctrd.v1', binary: 'shim', client: shim.client() });
}

test('an exec that exited is answered without the shim until it is deleted', async () => {
  const shim = new StandInShim();
  const task = taskOn(shim);
  const p = await task.exec('e1', { spec: undefined, io: IO });
  assert.equal(await p.start(), 4242);
  shim.states.set('e1', running('e1'));
  assert.equal((await p.state()).status, 'running');
  assert.equal((await p.state()).status, 'running', 'a running process is asked every time');
  assert.deepEqual(shim.asked, ['Exec', 'Start', 'State', 'State']);

  const exit = await p.wait();
  assert.equal(exit.status, 3);
  shim.asked.length = 0;
  const s = await p.state();
  assert.deepEqual(shim.asked, [], 'the exit Wait answered settles the state');
  assert.deepEqual(s, { id: 'e1', pid: 4242, status: 'stopped', io: IO, exitStatus: 3, exitedAt: exit.exitedAt });
  s.io.stdout = 'changed';
  assert.equal((await p.state()).io.stdout, '/f/out', 'callers get their own copy');

  await p.delete();
  shim.states.delete('e1');
  shim.asked.length = 0;
  await assert.rejects(p.state(), NotFoundError, 'a deleted exec is the shim\'s to answer again');
  assert.deepEqual(shim.asked, ['State']);
});

test('a stopped state the shim answered is kept; the init learns its pid and stdio at create', async () => {
  const shim = new StandInShim();
  const task = taskOn(shim);
  task.created(77, IO);
  shim.states.set('', StateResponse.fromPartial({ id: 'c1', pid: 77, status: Status.STOPPED, ...IO, exitStatus: 9, exitedAt: EXITED_AT }));
  const first = await task.state();
  assert.equal(first.status, 'stopped');
  shim.states.set('', running(''));
  const again = await task.state();
  assert.deepEqual(shim.asked, ['State'], 'one State: the second answer came from the exit already seen');
  assert.deepEqual(again, { ...first, id: 'c1' });
  assert.equal(again.exitStatus, 9);

  // A restored task's Create answers pid 0: until Start gives one, nothing is answered here.
  const restored = taskOn(shim);
  restored.created(0, IO);
  await restored.wait();
  shim.asked.length = 0;
  assert.equal((await restored.state()).status, 'running');
  assert.deepEqual(shim.asked, ['State']);
});
