import { readFileSync } from 'node:fs';

/**
 * CLIENT_VERSION is ctrctl's version, from its package.json: one directory up from the compiled
 * module, or two from a bundled chunk.
 */
export const CLIENT_VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@ctrd/cli') return `v${pkg.version ?? '0.0.0'}`;
    } catch {
      // not there: try the next location
    }
  }
  return 'v0.0.0';
})();
