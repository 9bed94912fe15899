import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, registerService, TtrpcClient, TtrpcServer } from '@ctrd/ttrpc';
import { TaskExit } from '@ctrd/api/gen/containerd/events/task.js';
import { EventsDefinition } from './gen/containerd/services/ttrpc/events/v1/events.js';
import { Publisher } from './publisher.js';
import { WIRE_TYPE_URLS } from './wire.js';

function exitEvent(id: string) {
  return { containerId: id, id, pid: 1, exitStatus: 3, exitedAt: undefined };
}

test('events published while the daemon is down arrive once, in order, when it listens again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-publisher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const address = join(dir, 'ctrd.sock.ttrpc');
  const errors: Error[] = [];
  const publisher = new Publisher(`unix://${address}`, 'ns', (e) => errors.push(e), { maxBackoffMs: 50 });
  publisher.publish('/tasks/exit', WIRE_TYPE_URLS.TaskExit, TaskExit, exitEvent('a'));
  publisher.publish('/tasks/exit', WIRE_TYPE_URLS.TaskExit, TaskExit, exitEvent('b'));
  // Longer than the old five-try window: the events must still be waiting.
  await new Promise((r) => setTimeout(r, 1200));
  const seen: string[] = [];
  const server = new TtrpcServer();
  registerService(server, EventsDefinition, {
    async forward(req) {
      seen.push(`${req.envelope?.namespace} ${req.envelope?.topic}`);
      return {};
    },
  });
  await server.listen(address);
  t.after(() => server.close());
  await publisher.flush();
  await publisher.close();
  assert.deepEqual(seen, ['ns /tasks/exit', 'ns /tasks/exit']);
  assert.deepEqual(errors, []);
});

test('close stops retrying an event nobody can receive and reports it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-publisher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const errors: Error[] = [];
  const publisher = new Publisher(`unix://${join(dir, 'absent.sock')}`, 'ns', (e) => errors.push(e));
  publisher.publish('/tasks/exit', WIRE_TYPE_URLS.TaskExit, TaskExit, exitEvent('a'));
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await publisher.close();
  assert.ok(Date.now() - started < 2000, 'close returns promptly');
  assert.equal(errors.length, 1);
});

test('an event published by a call handler leaves after that call\'s reply', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-publisher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const order: string[] = [];
  const events = new TtrpcServer();
  registerService(events, EventsDefinition, {
    async forward(req) {
      order.push(`event ${req.envelope?.topic}`);
      return {};
    },
  });
  await events.listen(join(dir, 'events.sock'));
  t.after(() => events.close());
  const publisher = new Publisher(`unix://${join(dir, 'events.sock')}`, 'ns');
  t.after(() => publisher.close());
  // The call handler: publishes, then answers (as TaskService's handlers do). Another Events
  // service stands in for any ttrpc service here.
  const shim = new TtrpcServer();
  registerService(shim, EventsDefinition, {
    async forward() {
      publisher.publish('/tasks/exit', WIRE_TYPE_URLS.TaskExit, TaskExit, exitEvent('a'));
      return {};
    },
  });
  await shim.listen(join(dir, 'shim.sock'));
  t.after(() => shim.close());
  const client = await TtrpcClient.connect(join(dir, 'shim.sock'));
  t.after(() => client.close());
  const caller = createClient(EventsDefinition, client);
  for (let i = 0; i < 3; i++) {
    await caller.forward({ envelope: undefined });
    order.push('reply');
    await publisher.flush();
  }
  assert.deepEqual(order, ['reply', 'event /tasks/exit', 'reply', 'event /tasks/exit', 'reply', 'event /tasks/exit']);
});
