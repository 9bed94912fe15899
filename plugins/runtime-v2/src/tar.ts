import { mkdir, readdir, readFile, lstat, writeFile } from 'node:fs/promises';
import { join, normalize, relative, sep } from 'node:path';
import { InvalidArgumentError, NotImplementedError } from '@ctrd/errdefs';

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, mode: number, size: number, mtime: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new NotImplementedError(`tar: name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtime), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/**
 * tarDirectory archives the regular files and directories under `dir` as an uncompressed ustar
 * stream (names relative to `dir`, owner root), the shape of a CRIU checkpoint image in content.
 */
export async function tarDirectory(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const walk = async (d: string): Promise<void> => {
    const names = (await readdir(d)).sort();
    for (const name of names) {
      const full = join(d, name);
      const rel = relative(dir, full).split(sep).join('/');
      const st = await lstat(full);
      if (st.isDirectory()) {
        parts.push(header(`${rel}/`, st.mode, 0, st.mtimeMs / 1000, '5'));
        await walk(full);
      } else if (st.isFile()) {
        const data = await readFile(full);
        parts.push(header(rel, st.mode, data.length, st.mtimeMs / 1000, '0'), data);
        const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
        if (pad > 0) parts.push(Buffer.alloc(pad));
      }
    }
  };
  await walk(dir);
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function field(h: Buffer, off: number, len: number): string {
  const raw = h.subarray(off, off + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/**
 * untarInto extracts a tar stream of files and directories into `dir`. Entries escaping `dir`
 * are InvalidArgument; links and devices are skipped (checkpoint images have none).
 */
export async function untarInto(data: Uint8Array, dir: string): Promise<void> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const prefix = field(h, 345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(h, 0, 100);
    const size = parseInt(field(h, 124, 12).trim() || '0', 8);
    const mode = parseInt(field(h, 100, 8).trim() || '644', 8);
    const type = String.fromCharCode(h[156] ?? 0x30);
    off += BLOCK;
    const body = buf.subarray(off, off + size);
    off += Math.ceil(size / BLOCK) * BLOCK;
    const target = normalize(join(dir, name));
    if (target !== dir && !target.startsWith(dir + sep)) throw new InvalidArgumentError(`tar: entry ${name} escapes the target`);
    if (type === '5') await mkdir(target, { recursive: true, mode: mode || 0o755 });
    else if (type === '0' || type === '\0') {
      await mkdir(join(target, '..'), { recursive: true });
      await writeFile(target, body, { mode: mode || 0o644 });
    }
  }
}
