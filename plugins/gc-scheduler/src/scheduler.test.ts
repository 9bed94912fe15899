import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { isUnavailable } from '@ctrd/errdefs';
import type { GcStats } from '@ctrd/metadata';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

/** FakeStore counts collections, each taking `costMs`, and lets a test raise mutations. */
class FakeStore {
  runs: number[] = [];
  costMs = 0;
  fail = false;
  #listeners = new Set<(dirty: boolean) => void>();
  async collectGarbage(): Promise<GcStats> {
    this.runs.push(Date.now());
    if (this.costMs) await delay(this.costMs);
    if (this.fail) throw new Error('boom');
    return { removed: { leases: 0, content: this.runs.length, ingests: 0, snapshots: 0 }, backend: { blobs: 0, ingests: 0, snapshots: {} }, metaMs: 0, totalMs: this.costMs };
  }
  onMutation(fn: (dirty: boolean) => void) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
  mutate(dirty: boolean) {
    for (const fn of this.#listeners) fn(dirty);
  }
}

const defaults: SchedulerOptions = { pauseThreshold: 0.02, deletionThreshold: 0, mutationThreshold: 100, scheduleDelayMs: 0, startupDelayMs: 0 };

function withScheduler(opts: Partial<SchedulerOptions>, fn: (s: Scheduler, store: FakeStore) => Promise<void>) {
  return async () => {
    const store = new FakeStore();
    const s = new Scheduler(store, { ...defaults, ...opts });
    try {
      await fn(s, store);
    } finally {
      s.close();
    }
  };
}

test('scheduleAndWait runs one collection for the waiters that asked together', withScheduler({}, async (s, store) => {
  const [a, b] = await Promise.all([s.scheduleAndWait(), s.scheduleAndWait()]);
  assert.equal(store.runs.length, 1);
  assert.equal(a, b);
  const c = await s.scheduleAndWait();
  assert.equal(store.runs.length, 2, 'a later request gets a later collection');
  assert.equal(c.removed.content, 2);
}));

test('a deletion schedules a collection after schedule_delay; plain mutations do not', withScheduler({ scheduleDelayMs: 30 }, async (_s, store) => {
  store.mutate(false);
  await delay(60);
  assert.equal(store.runs.length, 0, 'no collection without a deletion');
  const at = Date.now();
  store.mutate(true);
  await delay(15);
  assert.equal(store.runs.length, 0, 'not before the delay');
  await delay(60);
  assert.equal(store.runs.length, 1);
  assert.ok(store.runs[0]! - at >= 25, 'ran after the delay');
}));

test('mutation_threshold mutations schedule a collection', withScheduler({ mutationThreshold: 3 }, async (_s, store) => {
  store.mutate(false);
  store.mutate(false);
  await delay(20);
  assert.equal(store.runs.length, 0);
  store.mutate(false);
  await delay(20);
  assert.equal(store.runs.length, 1);
}));

test('collections after deletions are rate-limited by pause_threshold', withScheduler({ pauseThreshold: 0.5 }, async (_s, store) => {
  store.costMs = 40;
  store.mutate(true);
  await delay(60);
  assert.equal(store.runs.length, 1);
  // avg 40 ms at 50 % means at least ~40 ms between the end of one run and the next.
  store.mutate(true);
  await delay(10);
  assert.equal(store.runs.length, 1, 'held back by the pause threshold');
  await delay(80);
  assert.equal(store.runs.length, 2);
  const gap = store.runs[1]! - store.runs[0]!;
  assert.ok(gap >= 75, `second run started ${gap} ms after the first (40 ms run + 40 ms pause)`);
}));

test('an explicit request bypasses the rate limit', withScheduler({ pauseThreshold: 0.01 }, async (s, store) => {
  store.costMs = 20;
  await s.scheduleAndWait();
  const t0 = Date.now();
  await s.scheduleAndWait();
  assert.ok(Date.now() - t0 < 500, 'not delayed by the ~2 s pause interval');
  assert.equal(store.runs.length, 2);
}));

test('startup_delay runs a first collection', withScheduler({ startupDelayMs: 20 }, async (s, store) => {
  assert.ok(s.nextRunIn !== undefined);
  await delay(60);
  assert.equal(store.runs.length, 1);
}));

test('a deletion before the start-up collection waits for it; an explicit request does not', withScheduler({ startupDelayMs: 150 }, async (s, store) => {
  const t0 = Date.now();
  store.mutate(true);
  await delay(60);
  assert.equal(store.runs.length, 0, 'the deletion did not bring the start-up collection forward');
  await delay(150);
  assert.equal(store.runs.length, 1, 'the start-up collection ran');
  assert.ok(store.runs[0]! - t0 >= 140, `it ran at ${store.runs[0]! - t0} ms, not before its delay`);
  store.mutate(true);
  await s.scheduleAndWait();
  assert.equal(store.runs.length, 2, 'an explicit request runs at once');
}));

test('a failed collection rejects its waiters and close rejects the rest', withScheduler({}, async (s, store) => {
  store.fail = true;
  await assert.rejects(s.scheduleAndWait(), /boom/);
  store.costMs = 50;
  const pending = s.scheduleAndWait();
  await delay(10);
  const late = s.scheduleAndWait();
  s.close();
  await assert.rejects(late, isUnavailable);
  await assert.rejects(pending, /boom/);
  await assert.rejects(s.scheduleAndWait(), isUnavailable);
}));
