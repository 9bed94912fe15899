import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Usage } from '../snapshotter.js';

/**
 * diskUsage measures a directory tree as containerd does: `size` sums the allocated blocks
 * (512-byte units) of every inode once, hard links counted once, and `inodes` counts them.
 */
export async function diskUsage(root: string): Promise<Usage> {
  const seen = new Set<string>();
  let size = 0;
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    if (!seen.has(id)) {
      seen.add(id);
      size += Number(st.blocks) * 512;
    }
    if (st.isDirectory()) {
      for (const name of await readdir(path)) await visit(join(path, name));
    }
  };
  await visit(root);
  return { size, inodes: seen.size };
}
