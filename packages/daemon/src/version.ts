import { readFileSync } from 'node:fs';

/**
 * VERSION is ctrd's release version, read from the daemon package's package.json: one directory
 * up from the compiled module, or two from a bundled chunk.
 */
export const VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@ctrd/daemon') return `v${pkg.version ?? '0.0.0'}`;
    } catch {
      // not there: try the next location
    }
  }
  return 'v0.0.0';
})();

/** REVISION is the source revision, from `CTRD_REVISION` at start-up or empty. */
export const REVISION: string = process.env.CTRD_REVISION ?? '';
