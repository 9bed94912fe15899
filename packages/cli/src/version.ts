import { readFileSync } from 'node:fs';

/** CLIENT_VERSION is ctrctl's version, from its package.json. */
export const CLIENT_VERSION: string = (() => {
  try {
    return `v${(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version}`;
  } catch {
    return 'v0.0.0';
  }
})();
