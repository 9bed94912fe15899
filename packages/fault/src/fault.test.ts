import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULT_SITE_NAMES, fault, faultHits, parseFaultSpec, readFaultTrace } from './index.js';

test('parseFaultSpec reads site:n lists and rejects malformed entries', () => {
  assert.deepEqual([...parseFaultSpec('a.b:3, c')], [['a.b', 3], ['c', 1]]);
  assert.throws(() => parseFaultSpec('x:0'), /bad entry/);
  assert.throws(() => parseFaultSpec(':2'), /bad entry/);
});

test('fault is a no-op without the environment', () => {
  fault('content.write');
  assert.equal(faultHits().size, 0);
});

test('site names are unique and dotted', () => {
  assert.equal(new Set(FAULT_SITE_NAMES).size, FAULT_SITE_NAMES.length);
  for (const s of FAULT_SITE_NAMES) assert.match(s, /^[a-z]+(\.[a-z-]+)+$/);
});

test('CTRD_FAULT kills the process with SIGKILL on the n-th hit and the trace records it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-fault-'));
  try {
    const trace = join(dir, 'trace');
    const mod = new URL('./index.js', import.meta.url).href;
    const script = `const { fault } = await import(${JSON.stringify(mod)}); for (let i = 1; i <= 5; i++) { fault('x.y'); console.log(i); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, CTRD_FAULT: 'x.y:3', CTRD_FAULT_TRACE: trace },
    });
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.stdout.toString(), '1\n2\n');
    const t = readFaultTrace(readFileSync(trace, 'utf8'));
    assert.equal(t.hits.get('x.y'), 3);
    assert.deepEqual(t.killedAt, { site: 'x.y', n: 3 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
