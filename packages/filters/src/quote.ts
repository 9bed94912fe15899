const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

const WIDTH: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/**
 * unquote decodes a quoted literal scanned by the filter scanner, delimiters included. The quote
 * may be `"`, `/` or `|`; inside, a backslash escapes the quote itself or introduces one of Go's
 * escapes. `\xHH` and octal escapes give the code point of that number (Go would give a raw byte).
 * Throws an Error with the reason when the literal is malformed.
 */
export function unquote(raw: string): string {
  const quote = raw[0];
  if (raw.length < 2 || quote === undefined || raw[raw.length - 1] !== quote) {
    throw new Error('quote syntax error');
  }
  const body = raw.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; ) {
    const ch = body[i]!;
    if (ch === '\n' || ch === quote) throw new Error('quote syntax error');
    if (ch !== '\\') {
      out += ch;
      i += 1;
      continue;
    }
    const esc = body[i + 1];
    if (esc === undefined) throw new Error('quote syntax error');
    i += 2;
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) {
      out += simple;
    } else if (esc === quote) {
      out += quote;
    } else if (esc in WIDTH) {
      const n = WIDTH[esc]!;
      const hex = body.slice(i, i + n);
      if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) throw new Error('quote syntax error');
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new Error('quote syntax error');
      out += String.fromCodePoint(cp);
      i += n;
    } else if (esc >= '0' && esc <= '7') {
      const oct = esc + body.slice(i, i + 2);
      if (!/^[0-7]{3}$/.test(oct)) throw new Error('quote syntax error');
      const cp = parseInt(oct, 8);
      if (cp > 255) throw new Error('quote syntax error');
      out += String.fromCodePoint(cp);
      i += 2;
    } else {
      throw new Error('quote syntax error');
    }
  }
  return out;
}
