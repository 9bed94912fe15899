import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * INTROSPECTION_PLUGIN names the introspection plugin (its type and ID). It is also the name of
 * its directory under the daemon's root, where the server UUID is kept, as in containerd.
 */
export const INTROSPECTION_PLUGIN = 'io.containerd.grpc.v1.introspection';

/**
 * serverUUID returns the server UUID kept in `dir`, creating the directory and the UUID on the
 * first start. It is synchronous (a few hundred bytes on the local disk, read while the daemon
 * starts): each asynchronous step would wait for a turn of an event loop busy loading the
 * plugins, and the early server and the introspection plugin, asking in turn, cannot race.
 */
export function serverUUID(dir: string): string {
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
