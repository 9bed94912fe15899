#!/usr/bin/env node
// Runs the test suite with node's built-in runner on the compiled output:
// unit tests (*.test.js beside the code in every workspace package) and whole-daemon tests (test/).
//   --unit     unit tests only
//   --daemon   whole-daemon tests only
//   other args are passed to `node --test` (e.g. --test-name-pattern=...).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const daemonOnly = args.includes('--daemon');
const pass = args.filter((a) => a !== '--unit' && a !== '--daemon');

function testFiles(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(p).isDirectory()) testFiles(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = [];
if (!daemonOnly) {
  for (const group of ['packages', 'plugins', 'examples']) {
    const base = join(top, group);
    if (!existsSync(base)) continue;
    for (const pkg of readdirSync(base).sort()) testFiles(join(base, pkg, 'dist'), files);
  }
  testFiles(join(top, 'bench', 'dist'), files);
}
if (!unitOnly) testFiles(join(top, 'test', 'dist'), files);

if (files.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
const reporter = process.stdout.isTTY ? ['--test-reporter=spec'] : [];
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...reporter, ...pass, ...files], { stdio: 'inherit', cwd: top });
process.exit(r.status ?? 1);
