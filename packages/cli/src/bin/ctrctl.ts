#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS CTRD_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
import { dynamicImport } from '@ctrd/code-cache';
import { imagesLsLean } from '../commands/images-ls-lean.js';
import { versionLean } from '../commands/version-lean.js';
import { fail } from './fail.js';
import { fastCommand } from './fast-path.js';

/**
 * ctrctl is ctrd's command-line client. Each command's code is imported only when that command
 * runs, so `ctrctl --help` and simple commands start quickly; `version`, `images ls`, `pull`
 * and `fetch` are recognised without yargs at all (see fast-path.ts), and the first two are
 * tried over a lean HTTP/2 connection (lean-grpc.ts) without grpc-js or node:http2, falling
 * back to the full client when that fails.
 * This entry is bundled as CommonJS (`bundle/ctrctl.cjs`, run by ctrctl-launcher.ts with V8's
 * code cache) and holds only that: an ES module entry costs Node's ESM loader at start (~5 ms).
 * Everything else is the ES module ctrctl-main.ts, imported when needed.
 * The first line starts node without NODE_EXTRA_CA_CERTS, which Node 20 would parse at start-up,
 * and hands it on as CTRD_EXTRA_CA_CERTS for the registry client (`fetch-object` over TLS) to
 * read when it connects (as the daemon's launcher does).
 */

// The rest of the CLI, as an absolute URL: the bundle's launcher compiles this file from V8's
// code cache, where Node 20 keeps no base for a relative import(). Beside tsc's output it is
// `ctrctl-main.js`; beside the bundle (`ctrctl.cjs`), the ES module bundle `ctrctl-main.mjs`.
const MAIN = new URL(import.meta.url.endsWith('.cjs') ? './ctrctl-main.mjs' : './ctrctl-main.js', import.meta.url).href;

async function run(): Promise<void> {
  const fast = fastCommand(process.argv.slice(2));
  if (fast?.name === 'version' && (await versionLean(fast.argv))) return;
  if (fast?.name === 'images ls' && (await imagesLsLean(fast.argv))) return;
  const main = await dynamicImport<typeof import('./ctrctl-main.js')>(MAIN);
  await (fast ? main.runFull(fast) : main.cli());
}

// No top-level await: the entry is bundled as CommonJS (see scripts/bundle.mjs).
run().catch(fail);
