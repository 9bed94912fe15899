import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkResults, cpuMsText, finishRow, markdown, summarize, type BenchResults } from './stats.js';

test('summarize gives the median of odd and even counts, min and max', () => {
  assert.deepEqual(summarize([5, 1, 3]), { median: 3, min: 1, max: 5 });
  assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
  assert.ok(Number.isNaN(summarize([]).median));
});

test('finishRow computes the ratio ctrd/containerd round by round', () => {
  const row = finishRow({ id: 'x', title: 'x', unit: 'ms', detail: '', containerd: [10, 20, 40], ctrd: [20, 20, 10] });
  assert.deepEqual(row.ratio, [2, 1, 0.25]);
  assert.equal(row.summary.ratio.median, 1);
});

function results(rounds: number, rows: BenchResults['rows']): BenchResults {
  return { date: 'd', quick: true, rounds, host: { node: '20', cpus: 2, kernel: 'k', containerd: 'c', ctr: 'c' }, rows, floors: [] };
}

test('checkResults reports missing rows, short runs and missing containerd columns', () => {
  const full = finishRow({ id: 'a', title: 'a', unit: 'ms', detail: '', containerd: [1, 1, 1, 1, 1], ctrd: [2, 2, 2, 2, 2] });
  assert.deepEqual(checkResults(results(5, [full]), ['a']), []);
  assert.match(checkResults(results(5, [full]), ['a', 'b']).join('\n'), /row b is missing/);
  assert.match(checkResults(results(3, [full]), ['a']).join('\n'), /only 3 rounds/);
  const noContainerd = finishRow({ id: 'a', title: 'a', unit: 'ms', detail: '', containerd: [], ctrd: [2, 2, 2, 2, 2] });
  assert.match(checkResults(results(5, [noContainerd]), ['a']).join('\n'), /no containerd column/);
});

test('markdown has a header and one line per row with both columns and the ratio', () => {
  const row = finishRow({ id: 'a', title: 'thing', unit: 'ms', detail: 'p', containerd: [10], ctrd: [15] });
  const md = markdown(results(1, [row]));
  assert.match(md, /\| workload \| parameters \| unit \| containerd \| ctrd \| ratio ctrd\/containerd \|/);
  assert.match(md, /\| thing \| p \| ms \| 10\.0 \(10\.0–10\.0\) \| 15\.0 \(15\.0–15\.0\) \| 1\.50 \(1\.50–1\.50\) \|/);
});

test('markdown shows the CPU medians of both daemons, marked when shims are included, and – where not measured', () => {
  const withCpu = finishRow({ id: 'a', title: 'thing', unit: 'ms', detail: 'p', containerd: [10], ctrd: [15], cpu: { scope: 'daemon+shims', containerd: [20, 30, 40], ctrd: [50, 60, 70] } });
  assert.equal(withCpu.cpu?.summary.ctrd.median, 60);
  const without = finishRow({ id: 'b', title: 'other', unit: 'MiB', detail: 'q', containerd: [1], ctrd: [2] });
  const md = markdown(results(1, [withCpu, without]));
  assert.match(md, /\| containerd CPU ms \| ctrd CPU ms \|/);
  assert.match(md, /\| 1\.50 \(1\.50–1\.50\) \| 30\.0 \+shims \| 60\.0 \+shims \|/);
  assert.match(md, /\| other \| q \| MiB \| .* \| – \| – \|/);
});

test('cpuMsText writes a zero reading as below one tick', () => {
  assert.equal(cpuMsText(0), '<10');
  assert.equal(cpuMsText(20), '20.0');
  assert.equal(cpuMsText(NaN), '–');
});
