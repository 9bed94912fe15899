#!/usr/bin/env node
// Runs the whole-daemon tests that scale up under CTRD_STRESS=1 (every test/dist/*.test.js that
// reads the variable), one file at a time so the figures are not skewed by each other, and prints
// a summary: pass/fail/skip per file and the figures the tests print. Builds nothing: run
// `npm run build` first. Extra arguments go to `node --test` (e.g. --test-name-pattern=soak).
//   CTRD_SOAK_CYCLES=n   overrides the 1,000 pull/rm cycles of the soak.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(top, 'test', 'dist');
const extra = process.argv.slice(2);

const files = existsSync(dist)
  ? readdirSync(dist)
      .filter((n) => n.endsWith('.test.js'))
      .sort()
      .map((n) => join(dist, n))
      .filter((p) => readFileSync(p, 'utf8').includes('CTRD_STRESS'))
  : [];
if (files.length === 0) {
  console.error('no stress-capable test files in test/dist: run `npm run build` first');
  process.exit(1);
}

/** runFile runs one file under node --test (TAP), echoing its output, and returns its counts and figures. */
function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...extra, file], {
      cwd: top,
      env: { ...process.env, CTRD_STRESS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      process.stdout.write(b);
    });
    child.once('close', (code) => {
      const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
      // A test's console.log lines reach TAP as "# \# ..."; those are the figures.
      const figures = out.split('\n').filter((l) => /^\s*# \\# /.test(l)).map((l) => l.replace(/^\s*# \\# /, ''));
      const failed = out.split('\n').filter((l) => /^\s*not ok \d+ - /.test(l)).map((l) => l.replace(/^\s*not ok \d+ - /, ''));
      resolve({ file, code, pass: count('pass'), fail: count('fail'), skipped: count('skipped'), ms: Date.now() - started, figures, failed });
    });
  });
}

const results = [];
for (const f of files) results.push(await runFile(f));

console.log('\n== stress summary (CTRD_STRESS=1) ==');
for (const r of results) {
  console.log(`${relative(top, r.file)}: ${r.pass} pass, ${r.fail} fail, ${r.skipped} skipped, ${(r.ms / 1000).toFixed(1)} s${r.code === 0 ? '' : ` (exit ${r.code})`}`);
  for (const f of r.figures) console.log(`  ${f}`);
  for (const f of r.failed) console.log(`  FAILED: ${f}`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
