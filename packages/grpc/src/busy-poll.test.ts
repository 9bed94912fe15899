import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { busyPollMicros, pollAfterAnswer, setBusyPoll } from './busy-poll.js';

/** busyOver reports the share of `ms` the event loop spent not asleep in its poll. */
async function busyOver(ms: number): Promise<number> {
  const before = performance.eventLoopUtilization();
  await sleep(ms);
  return performance.eventLoopUtilization(before).utilization;
}

test('pollAfterAnswer keeps the event loop turning for the window, then lets it sleep', async (t) => {
  t.after(() => setBusyPoll(0));
  setBusyPoll(40_000);
  assert.equal(busyPollMicros(), 40_000);
  pollAfterAnswer();
  const during = await busyOver(30);
  // The window has ended by now; the loop is back to sleeping between timers.
  await sleep(20);
  const after = await busyOver(60);
  assert.ok(during > 0.5, `the loop slept through the window: utilization ${during}`);
  // A polling loop is near 1; a sleeping one well below, even on a busy machine.
  assert.ok(after < 0.6, `the loop kept turning after the window: utilization ${after}`);
});

test('with the window at 0 pollAfterAnswer does nothing', async (t) => {
  t.after(() => setBusyPoll(0));
  setBusyPoll(0);
  pollAfterAnswer();
  const u = await busyOver(60);
  assert.ok(u < 0.6, `the loop turned without a window: utilization ${u}`);
});
