import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InvalidArgumentError } from '@ctrd/errdefs';

/** XATTR_PREFIX is the PAX record prefix that carries an extended attribute (GNU/star style). */
export const XATTR_PREFIX = 'SCHILY.xattr.';

/** MAX_PAX_SIZE caps one PAX extended header; larger headers are refused as abuse. */
export const MAX_PAX_SIZE = 1024 * 1024;

/** MAX_PAX_RECORDS caps the records of one PAX header. */
export const MAX_PAX_RECORDS = 4096;

interface Headers {
  encode(h: Record<string, unknown>): Buffer | null;
  decodePax(buf: Uint8Array): Record<string, string>;
  encodePax(opts: { name?: string; linkname?: string; pax?: Record<string, string> }): Uint8Array;
  [kPatched]?: boolean;
}

const kPatched = Symbol.for('ctrd.differ.paxPatched');

/**
 * decodePax parses a PAX extended header. Unlike tar-stream's own parser it keeps binary
 * values intact: `SCHILY.xattr.*` values come back as binary strings (one char per byte, the
 * `latin1` encoding), every other value as UTF-8. Headers over MAX_PAX_SIZE bytes or
 * MAX_PAX_RECORDS records, and malformed records, are InvalidArgument.
 */
export function decodePax(input: Uint8Array): Record<string, string> {
  if (input.length > MAX_PAX_SIZE) throw new InvalidArgumentError(`pax header of ${input.length} bytes exceeds ${MAX_PAX_SIZE}`);
  const buf = Buffer.from(input.buffer, input.byteOffset, input.length);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let pos = 0;
  let count = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break; // padding after the last record
    const space = buf.indexOf(0x20, pos);
    if (space < 0 || space - pos > 20) throw new InvalidArgumentError('malformed pax record length');
    const len = Number(buf.toString('latin1', pos, space));
    if (!Number.isInteger(len) || len <= space - pos + 1 || pos + len > buf.length) {
      throw new InvalidArgumentError('malformed pax record length');
    }
    if (buf[pos + len - 1] !== 0x0a) throw new InvalidArgumentError('pax record is not newline terminated');
    const eq = buf.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= pos + len - 1) throw new InvalidArgumentError('pax record without "="');
    const key = buf.toString('utf8', space + 1, eq);
    const enc = key.startsWith(XATTR_PREFIX) ? 'latin1' : 'utf8';
    const value = buf.toString(enc, eq + 1, pos + len - 1);
    if (++count > MAX_PAX_RECORDS) throw new InvalidArgumentError(`pax header has more than ${MAX_PAX_RECORDS} records`);
    // An empty value deletes the key (POSIX); keep it as '' so callers can tell.
    out[key] = value;
    pos += len;
  }
  return out;
}

function record(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let digits = String(body.length).length;
  if (String(body.length + digits).length > digits) digits++;
  return Buffer.concat([Buffer.from(String(body.length + digits), 'latin1'), body]);
}

/**
 * encodePax builds a PAX extended header; `SCHILY.xattr.*` values are binary strings written
 * byte for byte (latin1), everything else UTF-8.
 */
export function encodePax(opts: { name?: string; linkname?: string; pax?: Record<string, string> }): Uint8Array {
  const parts: Buffer[] = [];
  if (opts.name) parts.push(record('path', Buffer.from(opts.name, 'utf8')));
  if (opts.linkname) parts.push(record('linkpath', Buffer.from(opts.linkname, 'utf8')));
  for (const [k, v] of Object.entries(opts.pax ?? {})) {
    parts.push(record(k, Buffer.from(v, k.startsWith(XATTR_PREFIX) ? 'latin1' : 'utf8')));
  }
  return Buffer.concat(parts);
}

/**
 * ensureBinaryPax makes tar-stream use decodePax and encodePax above. tar-stream's `exports`
 * map hides its headers module, so it is reached by file path next to the package entry. The
 * replacement is byte-compatible for text values, so other users of tar-stream are unaffected.
 */
export function ensureBinaryPax(): void {
  const headers = tarHeaders();
  if (headers[kPatched]) return;
  headers.decodePax = decodePax;
  headers.encodePax = encodePax;
  headers[kPatched] = true;
}

let cached: Headers | undefined;

/** tarHeaders returns tar-stream's header codec module. */
export function tarHeaders(): Headers {
  if (!cached) {
    const require = createRequire(import.meta.url);
    cached = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as Headers;
  }
  return cached;
}
