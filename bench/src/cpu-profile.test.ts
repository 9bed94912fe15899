import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatTop, readProfiles, selfTimes, type CpuProfile } from './cpu-profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('hot', 'file:///app/a.js', 9) },
    { id: 4, callFrame: frame('hot', 'file:///app/a.js', 9) },
    { id: 5, callFrame: frame('', 'node:internal/x', 0) },
  ],
  startTime: 1000,
  endTime: 9000,
  // taken at 2000, 3000, 5000, 6000, 8000; the last runs until endTime
  samples: [3, 4, 2, 5, 3],
  timeDeltas: [1000, 1000, 2000, 1000, 2000],
};

test('selfTimes gives each sample the gap to the next and merges nodes of one function', () => {
  const times = selfTimes([profile]);
  assert.deepEqual(times, [
    { name: 'hot /app/a.js:10', ms: 4 },
    { name: '(idle)', ms: 1 },
    { name: '(anonymous) node:internal/x:1', ms: 2 },
  ].sort((a, b) => b.ms - a.ms));
});

test('selfTimes adds up several profiles', () => {
  const times = selfTimes([profile, profile]);
  assert.equal(times[0]!.ms, 8);
});

test('formatTop leaves idle out of the list and the busy share', () => {
  const text = formatTop(selfTimes([profile]), 1);
  assert.match(text, /^busy 6 ms, idle 1 ms; top 1 by self time:/);
  assert.match(text, /4\.0 +66\.7 +hot \/app\/a\.js:10/);
  assert.doesNotMatch(text, /anonymous/);
});

test('readProfiles reads only .cpuprofile files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-profile-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'CPU.1.cpuprofile'), JSON.stringify(profile));
  writeFileSync(join(dir, 'notes.txt'), 'x');
  const got = readProfiles(dir);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.profile.endTime, 9000);
});
