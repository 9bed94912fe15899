#!/usr/bin/env -S node --min-semi-space-size=8
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from '../code-cache.js';

// The entry of the bundled daemon (`bundle/ctrd.js`): the daemon itself is one CommonJS file
// beside it (`ctrd.cjs`), compiled with V8's code cache. `CTRD_CODE_CACHE=0` compiles it without one;
// tsc's output has no such file: run `dist/bin/ctrd.js` there.
// `--min-semi-space-size=8` (also in `npm start`, the systemd unit and the test and bench
// harnesses): with V8's 1 MB starting young generation, about one daemon start in five stayed
// there and then ran a full collection every ~30 ms while a large upload streamed in, at twice
// the CPU (bench/README.md, "A daemon in five ingested at twice the CPU").
const bundle = fileURLToPath(new URL('./ctrd.cjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write(`ctrd: ${bundle} is missing; build it with \`npm run build\`\n`);
  process.exit(1);
} else runWithCodeCache(bundle, { cache: process.env.CTRD_CODE_CACHE !== '0' });
