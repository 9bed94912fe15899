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

/**
 * Decoder is the Huffman code as a state machine read four bits at a time: a state is a node of
 * the code's tree (0 the root), and for each state and nibble `next` is the state reached and
 * `emit` the symbol completed on the way (-1: none; no code is shorter than five bits, so a nibble
 * completes at most one). `depth` and `ones` tell whether the bits read since the root may end
 * the string as padding: fewer than eight, all ones.
 */
interface Decoder {
  next: Uint16Array;
  emit: Int16Array;
  depth: Uint8Array;
  ones: Uint8Array;
}

let decoder: Decoder | undefined;

function huffmanDecoder(): Decoder {
  if (decoder) return decoder;
  const t = huffmanTable();
  // The tree: children of internal nodes; a leaf is stored as -(symbol + 1).
  const left: number[] = [0];
  const right: number[] = [0];
  const depth: number[] = [0];
  const ones: number[] = [1];
  for (let len = 1; len <= 30; len++) {
    for (let i = 0; i < t.count[len]!; i++) {
      const code = t.first[len]! + i;
      const sym = t.symbols[t.offset[len]! + i]!;
      let node = 0;
      for (let b = len - 1; b >= 0; b--) {
        const bit = Math.floor(code / 2 ** b) % 2;
        const kids = bit ? right : left;
        if (b === 0) {
          kids[node] = -(sym + 1);
          break;
        }
        if (kids[node] === 0) {
          kids[node] = left.length;
          left.push(0);
          right.push(0);
          depth.push(depth[node]! + 1);
          ones.push(ones[node]! & bit);
        }
        node = kids[node]!;
      }
    }
  }
  const states = left.length;
  const next = new Uint16Array(states * 16);
  const emit = new Int16Array(states * 16).fill(-1);
  for (let s = 0; s < states; s++) {
    for (let n = 0; n < 16; n++) {
      let node = s;
      for (let b = 3; b >= 0; b--) {
        const child = (n >> b) & 1 ? right[node]! : left[node]!;
        if (child < 0) {
          emit[s * 16 + n] = -child - 1;
          node = 0;
        } else node = child;
      }
      next[s * 16 + n] = node;
    }
  }
  return (decoder = { next, emit, depth: Uint8Array.from(depth), ones: Uint8Array.from(ones) });
}

/** huffmanDecode decodes a Huffman-coded string (RFC 7541, section 5.2). */
export function huffmanDecode(bytes: Uint8Array): Uint8Array {
  const { next, emit, depth, ones } = huffmanDecoder();
  // At most 8/5 symbols per byte.
  const out = new Uint8Array(Math.ceil((bytes.length * 8) / 5));
  let n = 0;
  let state = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    let at = state * 16 + (byte >> 4);
    let sym = emit[at]!;
    if (sym >= 0) {
      if (sym === EOS) throw new HpackError('EOS in a Huffman-coded string');
      out[n++] = sym;
    }
    state = next[at]!;
    at = state * 16 + (byte & 0xf);
    sym = emit[at]!;
    if (sym >= 0) {
      if (sym === EOS) throw new HpackError('EOS in a Huffman-coded string');
      out[n++] = sym;
    }
    state = next[at]!;
  }
  // What is left must be padding: fewer than 8 bits, all ones (the start of EOS).
  if (state !== 0 && (depth[state]! > 7 || !ones[state])) throw new HpackError('invalid Huffman padding');
  return out.subarray(0, n);
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
  const bytes = huffman ? huffmanDecode(raw) : raw;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
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
