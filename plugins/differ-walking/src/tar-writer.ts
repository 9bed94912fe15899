import { encodePax, tarHeaders } from './pax.js';

const BLOCK = 512;
const MAX_OCTAL_ID = 0o777777;

/** TarEntryHeader is what {@link encodeHeader} writes for one entry. */
export interface TarEntryHeader {
  name: string;
  type: 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** mtime as seconds and nanoseconds; a non-zero nsec is written as a PAX `mtime`. */
  mtime: { sec: number; nsec: number };
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** extended attributes, values as raw bytes. */
  xattrs?: Map<string, Buffer>;
}

/** padding returns the zero bytes that round `size` up to a whole tar block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** END_OF_ARCHIVE is the two zero blocks that close a tar. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/**
 * encodeHeader returns the header block(s) of one entry: a PAX extended header first when the
 * name or link target does not fit ustar, an id is too large, the mtime has nanoseconds or
 * there are xattrs; then the ustar header.
 */
export function encodeHeader(h: TarEntryHeader): Buffer {
  const codec = tarHeaders();
  const name = h.type === 'directory' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
  const pax: Record<string, string> = {};
  if (h.mtime.nsec !== 0) pax.mtime = `${h.mtime.sec}.${String(h.mtime.nsec).padStart(9, '0')}`;
  if (h.uid > MAX_OCTAL_ID) pax.uid = String(h.uid);
  if (h.gid > MAX_OCTAL_ID) pax.gid = String(h.gid);
  for (const [k, v] of h.xattrs ?? []) pax[`SCHILY.xattr.${k}`] = v.toString('latin1');
  const ustar = {
    name,
    type: h.type,
    mode: h.mode,
    uid: Math.min(h.uid, MAX_OCTAL_ID),
    gid: Math.min(h.gid, MAX_OCTAL_ID),
    size: h.type === 'file' ? h.size : 0,
    mtime: new Date(h.mtime.sec * 1000),
    linkname: h.linkname,
    devmajor: h.devmajor,
    devminor: h.devminor,
  };
  const plain = codec.encode(ustar);
  if (plain && Object.keys(pax).length === 0) return plain;
  const long = plain === null;
  const body = Buffer.from(encodePax({ name: long ? name : undefined, linkname: long ? h.linkname : undefined, pax }));
  const short = long ? { ...ustar, name: shorten(name), linkname: h.linkname ? shorten(h.linkname) : undefined } : ustar;
  const paxHeader = codec.encode({ ...short, name: 'PaxHeader', type: 'pax-header', size: body.length, linkname: undefined });
  const main = codec.encode(short);
  if (!paxHeader || !main) throw new Error(`cannot encode tar header for ${JSON.stringify(h.name)}`);
  return Buffer.concat([paxHeader, body, padding(body.length), main]);
}

/** shorten cuts a name to an ASCII stand-in that fits ustar; readers take the PAX value. */
function shorten(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(-100);
}
