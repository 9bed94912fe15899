import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeCacheFile } from './code-cache.js';

/**
 * CTRD_LAUNCHER is the daemon's launcher, the package's `bin`. Tools that start ctrd with
 * `process.execPath` instead of running this file pass {@link ctrdNodeFlags} themselves.
 */
export const CTRD_LAUNCHER = fileURLToPath(new URL('../bundle/ctrd.js', import.meta.url));

const SHEBANG = /^#!\/usr\/bin\/env -S node((?: --\S+)*)$/;

/**
 * nodeFlagsOf returns the node flags of a launcher's first line (`#!/usr/bin/env -S node
 * <flags>`). It throws on any other first line, so a changed launcher cannot quietly drop them.
 */
export function nodeFlagsOf(firstLine: string): string[] {
  const m = SHEBANG.exec(firstLine);
  if (!m) throw new Error(`launcher: unexpected first line ${JSON.stringify(firstLine)}`);
  return m[1]!.split(' ').filter(Boolean);
}

/** ctrdNodeFlags are the node flags ctrd runs with; the launcher's first line is their only copy. */
export function ctrdNodeFlags(launcher = CTRD_LAUNCHER): string[] {
  return nodeFlagsOf(readFileSync(launcher, 'latin1').split('\n', 1)[0]!);
}

/**
 * ctrdCodeCacheFile is the file the launcher keeps V8's code cache of the daemon's bundle in, for
 * the bundle as built now. The first daemon started after a build writes it.
 */
export function ctrdCodeCacheFile(launcher = CTRD_LAUNCHER): string {
  return codeCacheFile(join(dirname(launcher), 'ctrd.cjs'));
}
