import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
    p = new Promise<string>((resolve) => resolve(loadUUID(dir)));
    loads.set(dir, p);
    p.catch(() => loads.delete(dir));
  }
  return p;
}

// Synchronous: a few hundred bytes on the local disk, read while the daemon starts. Each
// asynchronous step would wait for a turn of an event loop that is busy loading the plugins.
function loadUUID(dir: string): string {
  const file = join(dir, 'uuid');
  try {
    const v = readFileSync(file, 'utf8').trim();
    if (v) return v;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const id = randomUUID();
  writeFileSync(`${file}.tmp`, id, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
  return id;
}
