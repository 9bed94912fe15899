import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { ensureBinaryPax } from './pax.js';
import { llistxattr, lgetxattr } from './sys.js';

/** TestEntry is one entry of a test tar: a header plus optional file data. */
export type TestEntry = Partial<Omit<Header, 'pax'>> & { name: string; data?: string | Buffer; pax?: Record<string, string> };

/** buildTar packs `entries` with tar-stream (binary-safe PAX) and returns the tar bytes. */
export async function buildTar(entries: readonly TestEntry[]): Promise<Buffer> {
  ensureBinaryPax();
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => void chunks.push(c as Buffer));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const e of entries) {
    const { data, ...h } = e;
    const body = data === undefined ? undefined : Buffer.from(data);
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body) p.entry({ mtime: new Date(1_700_000_000_000), ...h, size: body.length } as Header, body, cb);
      else p.entry({ mtime: new Date(1_700_000_000_000), ...h } as Header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** gzip compresses a buffer. */
export const gzip = (b: Buffer): Buffer => gzipSync(b);

/** zstd compresses a buffer with the zstd CLI, or returns null when it is missing. */
export function zstd(b: Buffer): Buffer | null {
  const r = spawnSync('zstd', ['-c', '-q'], { input: b, maxBuffer: 1 << 30 });
  return r.status === 0 ? r.stdout : null;
}

/** sha256 of bytes as a digest string. */
export const digestOf = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** tempDir makes a temporary directory and returns it with its remover. */
export function tempDir(prefix = 'ctrd-differ-'): [string, () => void] {
  const d = mkdtempSync(join(tmpdir(), prefix));
  return [d, () => rmSync(d, { recursive: true, force: true })];
}

/** chunked yields `b` in pieces of `size`, as a network stream would. */
export async function* chunked(b: Buffer, size = 7919): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

/**
 * treeHash digests everything observable about a tree: names, types, modes, owners, sizes,
 * contents, link targets, device numbers, xattrs and (optionally) mtimes.
 */
export function treeHash(root: string, withTimes = true): string {
  const h = createHash('sha256');
  const walk = (rel: string): void => {
    const abs = rel === '' ? root : join(root, rel);
    const st = lstatSync(abs, { bigint: true });
    h.update(`${rel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.rdev}\0`);
    if (withTimes) h.update(`${st.mtimeNs}\0`);
    for (const x of llistxattr(abs).sort()) h.update(`${x}=${lgetxattr(abs, x).toString('hex')}\0`);
    if (st.isSymbolicLink()) h.update(readlinkSync(abs));
    else if (st.isFile()) h.update(readFileSync(abs));
    else if (st.isDirectory()) for (const n of readdirSync(abs).sort()) walk(rel === '' ? n : `${rel}/${n}`);
  };
  walk('');
  return h.digest('hex');
}
