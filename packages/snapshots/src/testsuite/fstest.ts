import { chmod, chown as fsChown, link as fsLink, lstat, mkdir, readFile, readdir, readlink, rename as fsRename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Applier changes a directory tree in one step of a test layer. */
export type Applier = (root: string) => Promise<void>;

/** apply chains appliers into one, run in order. */
export function apply(...appliers: Applier[]): Applier {
  return async (root) => {
    for (const a of appliers) await a(root);
  };
}

/** createFile writes a file with exactly `mode`, whatever the umask. */
export function createFile(path: string, content: string, mode: number): Applier {
  return async (root) => {
    const p = join(root, path);
    await writeFile(p, content, { mode });
    await chmod(p, mode);
  };
}

/** createDir makes a directory with exactly `mode`. */
export function createDir(path: string, mode: number): Applier {
  return async (root) => {
    const p = join(root, path);
    await mkdir(p, { mode });
    await chmod(p, mode);
  };
}

/** removeAll deletes a file or a whole tree; a missing path is fine. */
export function removeAll(path: string): Applier {
  return (root) => rm(join(root, path), { recursive: true, force: true });
}

/** chown changes a path's owner. */
export function chown(path: string, uid: number, gid: number): Applier {
  return (root) => fsChown(join(root, path), uid, gid);
}

/** link makes `newPath` a hard link to `oldPath`. */
export function link(oldPath: string, newPath: string): Applier {
  return (root) => fsLink(join(root, oldPath), join(root, newPath));
}

/** rename moves `oldPath` to `newPath` with rename(2). */
export function rename(oldPath: string, newPath: string): Applier {
  return (root) => fsRename(join(root, oldPath), join(root, newPath));
}

async function describeTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = `${rel}/${name}`;
      const p = join(root, r);
      const st = await lstat(p);
      let what = `mode=${(st.mode & 0o177777).toString(8)} uid=${st.uid} gid=${st.gid}`;
      if (st.isFile()) what += ` size=${st.size} content=${JSON.stringify((await readFile(p)).toString('base64'))}`;
      else if (st.isSymbolicLink()) what += ` target=${await readlink(p)}`;
      else if (st.isCharacterDevice() || st.isBlockDevice()) what += ` rdev=${st.rdev}`;
      out.set(r, what);
      if (st.isDirectory()) await visit(r);
    }
  };
  await visit('');
  return out;
}

/**
 * checkDirectoryEqual compares two trees below their roots: names, types, permission bits,
 * owners, file contents and link targets (not times). It throws listing every difference.
 */
export async function checkDirectoryEqual(expected: string, actual: string): Promise<void> {
  const [a, b] = await Promise.all([describeTree(expected), describeTree(actual)]);
  const diffs: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined) diffs.push(`missing ${k} (${v})`);
    else if (w !== v) diffs.push(`changed ${k}: expected ${v}, got ${w}`);
  }
  for (const [k, v] of b) if (!a.has(k)) diffs.push(`unexpected ${k} (${v})`);
  if (diffs.length > 0) throw new Error(`directories differ:\n  ${diffs.slice(0, 20).join('\n  ')}`);
}

/** checkDirectoryEqualWithApplier compares `actual` with a fresh tree built by `applier` in `scratch`. */
export async function checkDirectoryEqualWithApplier(actual: string, applier: Applier, scratch: string): Promise<void> {
  await mkdir(scratch, { recursive: true });
  try {
    await applier(scratch);
    await checkDirectoryEqual(scratch, actual);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
