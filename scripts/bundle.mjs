#!/usr/bin/env node
// Bundles the compiled entry points of the two binaries with esbuild, so each starts by reading
// a few files instead of resolving hundreds of ESM modules. It bundles tsc's output, which
// already carries the decorator metadata tsyringe needs (esbuild emits none of its own).
// Commands loaded on demand stay separate chunks (`splitting`). Native addons stay external.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const targets = [
  { entry: 'packages/cli/dist/bin/ctrctl.js', outdir: 'packages/cli/bundle' },
  { entry: 'packages/daemon/dist/bin/ctrd.js', outdir: 'packages/daemon/bundle' },
];

for (const t of targets) {
  const entry = join(top, t.entry);
  if (!existsSync(entry)) continue;
  await build({
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: join(top, t.outdir),
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    external: ['koffi', 'classic-level', 'level', 'memory-level'],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: { js: "import { createRequire as __ctrdCreateRequire } from 'node:module'; const require = __ctrdCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  });
}

// npm links each package's `bin` at install time, before the build has produced it, so the
// files never got their execute bit: set it now on every workspace binary.
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
for (const group of ['packages', 'plugins']) {
  for (const name of readdirSync(join(top, group))) {
    const pj = join(top, group, name, 'package.json');
    if (!existsSync(pj)) continue;
    const bin = JSON.parse(readFileSync(pj, 'utf8')).bin ?? {};
    for (const rel of Object.values(typeof bin === 'string' ? { x: bin } : bin)) {
      const p = join(top, group, name, rel);
      if (existsSync(p)) chmodSync(p, 0o755);
    }
  }
}
