import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Usage } from '../snapshotter.js';

/** SLICE_MS bounds how long the walk holds the event loop before letting other work run. */
const SLICE_MS = 4;

/**
 * diskUsage measures a directory tree as containerd does: `size` sums the allocated blocks
 * (512-byte units) of every inode once, hard links counted once, and `inodes` counts them.
 *
 * The walk calls lstat and readdir synchronously, in slices of a few milliseconds with a turn of
 * the event loop between them: a local lstat takes a few microseconds, while a round trip through
 * the thread pool per entry made a 3,000-file layer's commit wait tens of milliseconds.
 */
export async function diskUsage(root: string): Promise<Usage> {
  const seen = new Set<string>();
  let size = 0;
  const pending = [root];
  let slice = performance.now();
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const st = lstatSync(path, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    if (!seen.has(id)) {
      seen.add(id);
      size += Number(st.blocks) * 512;
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) pending.push(join(path, name));
    if (performance.now() - slice >= SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      slice = performance.now();
    }
  }
  return { size, inodes: seen.size };
}
