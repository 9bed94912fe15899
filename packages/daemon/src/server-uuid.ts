import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * INTROSPECTION_PLUGIN names the introspection plugin (its type and ID). It is also the name of
 * its directory under the daemon's root, where the server UUID is kept, as in containerd.
 */
export const INTROSPECTION_PLUGIN = 'io.containerd.grpc.v1.introspection';

// One load per directory in this process: the early server and the introspection plugin may both
// ask on a fresh root, and must not create two UUIDs.
const loads = new Map<string, Promise<string>>();

/**
 * serverUUID returns the server UUID kept in `dir`, creating the directory and the UUID on the
 * first start. Callers in one process share one load; a failed load is tried again next time.
 */
export function serverUUID(dir: string): Promise<string> {
  let p = loads.get(dir);
  if (!p) {
    p = loadUUID(dir);
    loads.set(dir, p);
    p.catch(() => loads.delete(dir));
  }
  return p;
}

async function loadUUID(dir: string): Promise<string> {
  const file = join(dir, 'uuid');
  try {
    const v = (await readFile(file, 'utf8')).trim();
    if (v) return v;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o711 });
  const id = randomUUID();
  await writeFile(`${file}.tmp`, id, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
  return id;
}
