/**
 * HTTP/2 header compression (RFC 7541), as much as gRPC's two sides need: a decoder of whatever
 * the peer sends (static and dynamic table, Huffman-coded strings) and an encoder that writes
 * every field as a plain literal, which needs no state shared with the peer.
 */

/** HpackError is a header block that does not decode. */
export class HpackError extends Error {}

// RFC 7541, Appendix A: the static table, indices 1 to 61.
const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];

// RFC 7541, Appendix B: the length in bits of the Huffman code of each symbol 0-256 (256 is
// EOS), one base-36 digit each. The code is canonical: codes are consecutive in order of length,
// then symbol, which is all a decoder needs to know of them.
const CODE_LENGTHS =
  'dnsssssssoussussssssssusssssssss6aacd68baa8b8666555666666678f6cad67777777777777777777777878djde6f56565666577666567655677777fbedskmkkmmmnmnnnnnonoomnonnnnlmnmnnomlkmmnnlnmmolmnnllmlnmnnkmmmnmmnqqkjmnmpqqqrrqopjlqrrqrollqqsrrrkoklmllnmmppooqnqrqqrrrrrsrrrrrqu';
const EOS = 256;

interface Canonical {
  /** the code's value for the first symbol of each length. */
  first: number[];
  /** how many symbols have each length. */
  count: number[];
  /** where the symbols of each length start in `symbols`. */
  offset: number[];
  /** the symbols in code order. */
  symbols: number[];
}

let canonical: Canonical | undefined;

function huffmanTable(): Canonical {
  if (canonical) return canonical;
  const lengths = [...CODE_LENGTHS].map((c) => parseInt(c, 36));
  const symbols = lengths.map((_, s) => s).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const count = new Array<number>(31).fill(0);
  for (const l of lengths) count[l]!++;
  const first = new Array<number>(31).fill(0);
  const offset = new Array<number>(31).fill(0);
  for (let len = 1, code = 0, at = 0; len <= 30; len++) {
    first[len] = code;
    offset[len] = at;
    code = (code + count[len]!) * 2;
    at += count[len]!;
  }
  return (canonical = { first, count, offset, symbols });
}

/** huffmanDecode decodes a Huffman-coded string (RFC 7541, section 5.2). */
export function huffmanDecode(bytes: Uint8Array): Uint8Array {
  const t = huffmanTable();
  const out: number[] = [];
  let code = 0;
  let len = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      const i = code - t.first[len]!;
      if (i >= 0 && i < t.count[len]!) {
        const sym = t.symbols[t.offset[len]! + i]!;
        if (sym === EOS) throw new HpackError('EOS in a Huffman-coded string');
        out.push(sym);
        code = 0;
        len = 0;
      } else if (len >= 30) {
        throw new HpackError('invalid Huffman code');
      }
    }
  }
  // What is left must be padding: fewer than 8 bits, all ones (the start of EOS).
  if (len > 7 || code !== 2 ** len - 1) throw new HpackError('invalid Huffman padding');
  return Uint8Array.from(out);
}

/** Header is one decoded field, in the order the block had them. */
export type Header = [name: string, value: string];

/** HpackDecoder decodes the header blocks of one connection, in the order they arrive. */
export class HpackDecoder {
  #table: Header[] = [];
  #size = 0;
  #max: number;

  /** `maxSize` is SETTINGS_HEADER_TABLE_SIZE as this side announced it (4096 by default). */
  constructor(readonly maxSize = 4096) {
    this.#max = maxSize;
  }

  decode(block: Uint8Array): Header[] {
    const out: Header[] = [];
    const pos = { at: 0 };
    let fields = false;
    while (pos.at < block.length) {
      const b = block[pos.at]!;
      if (b & 0x80) {
        out.push(this.#entry(integer(block, pos, 7)));
      } else if (b & 0x40) {
        const f = this.#literal(block, pos, 6);
        this.#add(f);
        out.push(f);
      } else if (b & 0x20) {
        // A table size update comes before the block's first field.
        if (fields) throw new HpackError('table size update after a header field');
        const size = integer(block, pos, 5);
        if (size > this.maxSize) throw new HpackError(`table size ${size} above the ${this.maxSize} announced`);
        this.#max = size;
        this.#evict(0);
        continue;
      } else {
        out.push(this.#literal(block, pos, 4));
      }
      fields = true;
    }
    return out;
  }

  #entry(index: number): Header {
    if (index === 0) throw new HpackError('index 0');
    const e = index <= STATIC.length ? STATIC[index - 1] : this.#table[index - STATIC.length - 1];
    if (!e) throw new HpackError(`index ${index} out of the table`);
    return [e[0], e[1]];
  }

  #literal(block: Uint8Array, pos: { at: number }, prefix: number): Header {
    const index = integer(block, pos, prefix);
    const name = index === 0 ? text(block, pos) : this.#entry(index)[0];
    return [name, text(block, pos)];
  }

  #add([name, value]: Header): void {
    const size = entrySize(name, value);
    this.#evict(size);
    if (size > this.#max) return;
    this.#table.unshift([name, value]);
    this.#size += size;
  }

  /** evict drops the oldest entries until `room` more bytes fit. */
  #evict(room: number): void {
    while (this.#table.length > 0 && this.#size + room > this.#max) {
      const [n, v] = this.#table.pop()!;
      this.#size -= entrySize(n, v);
    }
  }
}

/**
 * entrySize is a table entry's size (RFC 7541, section 4.1): its octets plus 32. Names and values
 * are decoded as latin1, one character per octet.
 */
function entrySize(name: string, value: string): number {
  return 32 + name.length + value.length;
}

/** integer reads an integer with an N-bit prefix (RFC 7541, section 5.1). */
function integer(block: Uint8Array, pos: { at: number }, prefix: number): number {
  const mask = (1 << prefix) - 1;
  let value = block[pos.at++]! & mask;
  if (value < mask) return value;
  for (let shift = 0; ; shift += 7) {
    if (pos.at >= block.length) throw new HpackError('truncated integer');
    if (shift > 28) throw new HpackError('integer too large');
    const b = block[pos.at++]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return value;
  }
}

function text(block: Uint8Array, pos: { at: number }): string {
  if (pos.at >= block.length) throw new HpackError('truncated string');
  const huffman = (block[pos.at]! & 0x80) !== 0;
  const len = integer(block, pos, 7);
  if (pos.at + len > block.length) throw new HpackError('truncated string');
  const raw = block.subarray(pos.at, pos.at + len);
  pos.at += len;
  return Buffer.from(huffman ? huffmanDecode(raw) : raw).toString('latin1');
}

/**
 * encodeHeaders writes each field as a literal without indexing and with a literal name
 * (RFC 7541, section 6.2.2), not Huffman-coded: nothing enters either side's dynamic table.
 */
export function encodeHeaders(headers: readonly Header[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    parts.push(Buffer.of(0), literal(name), literal(value));
  }
  return Buffer.concat(parts);
}

function literal(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([prefixed(bytes.length, 7), bytes]);
}

/** prefixed encodes an integer with an N-bit prefix, the prefix's other bits zero. */
function prefixed(value: number, prefix: number): Buffer {
  const mask = (1 << prefix) - 1;
  if (value < mask) return Buffer.of(value);
  const out = [mask];
  for (value -= mask; value >= 0x80; value = Math.floor(value / 0x80)) out.push((value % 0x80) | 0x80);
  out.push(value);
  return Buffer.from(out);
}
