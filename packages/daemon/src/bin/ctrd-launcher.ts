#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from '../code-cache.js';

// The entry of the bundled daemon (`bundle/ctrd.js`): the daemon itself is one CommonJS file
// beside it (`ctrd.cjs`), compiled with V8's code cache. `CTRD_CODE_CACHE=0` compiles it without one;
// tsc's output has no such file: run `dist/bin/ctrd.js` there.
const bundle = fileURLToPath(new URL('./ctrd.cjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write(`ctrd: ${bundle} is missing; build it with \`npm run build\`\n`);
  process.exit(1);
} else runWithCodeCache(bundle, { cache: process.env.CTRD_CODE_CACHE !== '0' });
