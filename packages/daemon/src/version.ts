import { readFileSync } from 'node:fs';

/** VERSION is ctrd's release version, read from the daemon package's package.json. */
export const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return `v${pkg.version ?? '0.0.0'}`;
  } catch {
    return 'v0.0.0';
  }
})();

/** REVISION is the source revision, from `CTRD_REVISION` at start-up or empty. */
export const REVISION: string = process.env.CTRD_REVISION ?? '';
