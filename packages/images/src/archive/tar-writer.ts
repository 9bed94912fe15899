import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { DataLossError } from '@ctrd/errdefs';

const BLOCK = 512;

/** TarHeader describes one entry written by {@link encodeTarHeader}. */
export interface TarHeader {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link';
  mode: number;
  size?: number;
  /** seconds since the epoch; 0 by default. */
  mtime?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
}

const TYPEFLAG: Record<TarHeader['type'], string> = { file: '0', link: '1', symlink: '2', directory: '5' };

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

function ustar(name: string, type: string, h: TarHeader, size: number, linkname: string): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, h.uid ?? 0);
  octal(b, 116, 8, h.gid ?? 0);
  octal(b, 124, 12, size);
  octal(b, 136, 12, h.mtime ?? 0);
  b.write(type, 156, 1, 'ascii');
  b.write(linkname, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'ascii');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return b;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/**
 * encodeTarHeader returns the header block(s) of one entry in ustar form, preceded by a PAX
 * header carrying the name or link target when either is longer than ustar allows.
 */
export function encodeTarHeader(h: TarHeader): Buffer {
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const name = h.type === 'directory' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
  const linkname = h.linkname ?? '';
  let pax = '';
  if (Buffer.byteLength(name) > 100) pax += paxRecord('path', name);
  if (Buffer.byteLength(linkname) > 100) pax += paxRecord('linkpath', linkname);
  const main = ustar(name.slice(0, 100), TYPEFLAG[h.type], h, size, linkname.slice(0, 100));
  if (pax === '') return main;
  const body = Buffer.from(pax);
  return Buffer.concat([ustar('PaxHeader', 'x', { ...h, mode: 0o644 }, body.length, ''), body, tarPadding(body.length), main]);
}

/** tarPadding returns the zero bytes rounding `size` up to a whole block. */
export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** TAR_END is the two zero blocks closing an archive. */
export const TAR_END: Buffer = Buffer.alloc(2 * BLOCK);

/** tarEntry returns one whole in-memory entry: header, data and padding. */
export function tarEntry(h: TarHeader, data?: Uint8Array): Buffer {
  const body = data ?? new Uint8Array(0);
  const header = encodeTarHeader({ ...h, size: h.type === 'file' ? body.length : 0 });
  return Buffer.concat([header, body, tarPadding(body.length)]);
}

/**
 * TarSink writes a tar archive to a Writable, honouring its back-pressure; entry data is
 * streamed and its length checked against the header.
 */
export class TarSink {
  constructor(private readonly out: Writable) {}

  private async put(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  /** entry writes one entry whose data comes from `data` (none for directories and links). */
  async entry(h: TarHeader, data?: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    const size = h.type === 'file' ? (h.size ?? (data instanceof Uint8Array ? data.length : 0)) : 0;
    await this.put(encodeTarHeader({ ...h, size }));
    let n = 0;
    if (data instanceof Uint8Array) {
      await this.put(data);
      n = data.length;
    } else if (data) {
      for await (const chunk of data) {
        n += chunk.length;
        await this.put(chunk);
      }
    }
    if (n !== size) throw new DataLossError(`unexpected copy size for ${h.name}: ${n} != ${size}`);
    await this.put(tarPadding(size));
  }

  /** end writes the closing blocks and ends the Writable. */
  async end(): Promise<void> {
    await this.put(TAR_END);
    this.out.end();
    await once(this.out, 'finish');
  }
}
