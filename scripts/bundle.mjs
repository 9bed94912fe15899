#!/usr/bin/env node
// Bundles the compiled entry points of the two binaries with esbuild, so each starts by reading
// a few files instead of resolving hundreds of ESM modules. It bundles tsc's output, which
// already carries the decorator metadata tsyringe needs (esbuild emits none of its own).
// Commands loaded on demand stay separate chunks (`splitting`). Native addons stay external.
import { build } from 'esbuild';
import { existsSync, readdirSync as listDir, rmSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const targets = [
  { entry: 'packages/cli/dist/bin/ctrctl.js', outdir: 'packages/cli/bundle' },
  { entry: 'packages/daemon/dist/bin/ctrd.js', outdir: 'packages/daemon/bundle' },
];

for (const t of targets) {
  const entry = join(top, t.entry);
  if (!existsSync(entry)) continue;
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: join(top, t.outdir),
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    // proto-loader (and protobufjs under it) is only required by grpc-js's channelz and ORCA
    // code paths; left external, it is resolved from node_modules if ever used.
    external: ['koffi', 'classic-level', 'level', 'memory-level', '@grpc/proto-loader'],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: { js: "import { createRequire as __ctrdCreateRequire } from 'node:module'; const require = __ctrdCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
    metafile: true,
  });
  // Chunk names carry a content hash, so every build leaves the previous ones behind. Those
  // older than an hour go; younger ones may still be imported lazily by a running process.
  const chunks = join(top, t.outdir, 'chunks');
  const current = new Set(Object.keys(result.metafile.outputs).map((f) => resolve(f)));
  for (const name of existsSync(chunks) ? listDir(chunks) : []) {
    const p = join(chunks, name);
    if (!current.has(p) && Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { force: true });
  }
}

// npm links each package's `bin` at install time, before the build has produced it, so the
// files never got their execute bit: set it now on every workspace binary.
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
for (const group of ['packages', 'plugins', 'examples']) {
  if (!existsSync(join(top, group))) continue;
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
