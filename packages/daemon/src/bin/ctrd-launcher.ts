#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS CTRD_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --min-semi-space-size=4 --initial-old-space-size=128
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from '@ctrd/code-cache';

// The entry of the bundled daemon (`bundle/ctrd.js`, bundled as CommonJS): the daemon itself is
// one CommonJS file beside it (`ctrd.cjs`), compiled with V8's code cache. `CTRD_CODE_CACHE=0`
// compiles it without one; tsc's output has no such file: run `dist/bin/ctrd.js` there.
// The first line is the only copy of how node starts: `npm start` and the systemd unit run this
// file as it is, and the test and bench harnesses read it (`@ctrd/daemon/launcher`).
// - `-u NODE_EXTRA_CA_CERTS CTRD_EXTRA_CA_CERTS=…`: Node 20 reads and parses the certificates
//   NODE_EXTRA_CA_CERTS names, with its whole root store, before any script runs (~40 ms of a
//   ~60 ms `node -e 0` where Debian's bundle is named); the daemon needs them only for a registry
//   over TLS, whose client reads the file then (`@ctrd/remotes-docker`, trust.ts).
// - `--min-semi-space-size=4`: with V8's 1 MB starting young generation, about one daemon start
//   in five stayed there and then ran a full collection every ~30 ms while a large upload
//   streamed in, at twice the CPU (bench/README.md, "A daemon in five ingested at twice the CPU").
//   4 MB does as well as the 8 first chosen (no full collection, 18 scavenges per 256 MiB ingest,
//   8 starts each) and an idle daemon holds ~4 MB less ("The young generation's floor, halved").
// - `--initial-old-space-size=128`: once a few full collections have sized the old generation
//   to a small live heap (~16 MB), V8 set its limit to ~32 MB and started marking almost at
//   once; the buffers of a large upload or download that lived through scavenges (V8 appears to
//   count their bytes against that limit too) then cost a full collection every few MB. With
//   this flag V8 sets no limit below 128 MB after a full collection (bench/README.md, "Full
//   collections once the old generation was sized").
const bundle = fileURLToPath(new URL('./ctrd.cjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write(`ctrd: ${bundle} is missing; build it with \`npm run build\`\n`);
  process.exit(1);
} else runWithCodeCache(bundle, { cache: process.env.CTRD_CODE_CACHE !== '0' });
