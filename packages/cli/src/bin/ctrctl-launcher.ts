#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS CTRD_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from '@ctrd/code-cache';

// The bundled ctrctl's entry (`bundle/ctrctl.js`, the package's bin). It runs the CLI's CommonJS
// part (`ctrctl.cjs` beside it: the fast path, `version` and `images ls`) compiled with V8's
// code cache, which spares each start parsing and compiling the functions those commands run
// (~2 ms of a ~40 ms `ctrctl images ls`). The first run after a build writes the cache; an
// install that cannot be written runs without one. `CTRD_CODE_CACHE=0` compiles without it.
// The first line is ctrctl.ts's (see there); the test and bench harnesses read it.
runWithCodeCache(fileURLToPath(new URL('./ctrctl.cjs', import.meta.url)), { cache: process.env.CTRD_CODE_CACHE !== '0' });
