#!/usr/bin/env node
// Generates src/gen/: the shim's two ttrpc services (containerd.task.v2.Task and the ttrpc
// Events service) as plain message codecs and service definitions, from @ctrd/api's protos.
// @ctrd/api's own generated modules for these files also build gRPC clients, which loads
// @grpc/grpc-js into every shim server; these do not. Messages they import (Any, Timestamp,
// Mount, …) come from @ctrd/api's generated modules, which have no services.
// Run from anywhere: `node packages/shim/scripts/generate-wire.mjs`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
const apiDir = join(pkgDir, '..', 'api');
const FILES = ['containerd/runtime/v2/task/shim', 'containerd/services/ttrpc/events/v1/events'];
const OPTIONS = [
  'outputServices=generic-definitions', 'forceLong=number', 'useDate=false', 'env=node',
  'esModuleInterop=true', 'importSuffix=.js', 'useOptionals=messages', 'useJsTypeOverride=true',
];

function bin(name) {
  for (let dir = pkgDir; dirname(dir) !== dir; dir = dirname(dir)) {
    const p = join(dir, 'node_modules', '.bin', name);
    if (existsSync(p)) return p;
  }
  throw new Error(`generate-wire: ${name} not found; run npm install`);
}

const scratch = mkdtempSync(join(tmpdir(), 'shim-gen-'));
try {
  const template = { version: 'v2', plugins: [{ local: bin('protoc-gen-ts_proto'), out: scratch, strategy: 'all', opt: OPTIONS }] };
  const args = ['generate', '--template', JSON.stringify(template), ...FILES.flatMap((f) => ['--path', `proto/${f}.proto`])];
  const r = spawnSync(bin('buf'), args, { cwd: apiDir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`generate-wire: buf exited with ${r.status}`);
  for (const f of FILES) {
    let text = readFileSync(join(scratch, `${f}.ts`), 'utf8');
    // Relative imports of other generated files point at @ctrd/api's copies.
    text = text.replace(/from "(\.{1,2}\/[^"]+)"/g, (_m, rel) => `from "@ctrd/api/gen/${posix.join(posix.dirname(f), rel)}"`);
    const out = join(pkgDir, 'src', 'gen', `${f}.ts`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
