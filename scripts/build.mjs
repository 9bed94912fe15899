#!/usr/bin/env node
// Builds every workspace package with `tsc -b`, after the generated API code is in place.
// `--clean` removes build output instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const projects = [];
for (const dir of ['packages', 'plugins', 'examples', 'bench', 'test']) {
  const base = join(top, dir);
  if (!existsSync(base)) continue;
  if (existsSync(join(base, 'tsconfig.json'))) projects.push(base);
  for (const name of readdirSync(base).sort()) {
    if (existsSync(join(base, name, 'tsconfig.json'))) projects.push(join(base, name));
  }
}

if (process.argv.includes('--clean')) {
  for (const p of projects) {
    rmSync(join(p, 'dist'), { recursive: true, force: true });
    rmSync(join(p, 'tsconfig.tsbuildinfo'), { force: true });
  }
  rmSync(join(top, 'packages/api/src/gen'), { recursive: true, force: true });
  process.exit(0);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: top, ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const codegen = join(top, 'packages/api/scripts/generate.mjs');
if (existsSync(codegen)) run(process.execPath, [codegen]);
run(process.execPath, [join(top, 'node_modules/typescript/bin/tsc'), '-b', ...projects.map((p) => join(p, 'tsconfig.json'))]);
const after = join(top, 'scripts/bundle.mjs');
if (existsSync(after)) run(process.execPath, [after]);
