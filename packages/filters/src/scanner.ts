/** TokenKind names the lexical classes of the filter grammar. `char` is any other single character. */
export type TokenKind = 'eof' | 'field' | 'quoted' | 'value' | 'separator' | 'operator' | 'illegal' | 'char';

/** Token is one lexeme: where it starts in the input, its raw text and, when illegal, why. */
export interface Token {
  readonly kind: TokenKind;
  readonly pos: number;
  readonly text: string;
  readonly err?: string;
}

const QUOTES = new Set(['"', '/', '|']);
const OPERATOR_CHARS = new Set(['=', '!', '~']);
const SPACE = /^\s$/u;
const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function isFieldChar(ch: string): boolean {
  return /^[A-Za-z0-9_]$/.test(ch);
}

function isValueChar(ch: string): boolean {
  return ch !== ',' && !SPACE.test(ch) && GRAPHIC.test(ch);
}

function isHex(ch: string | undefined): boolean {
  return ch !== undefined && /^[0-9A-Fa-f]$/.test(ch);
}

function isOctal(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '7';
}

/**
 * Scanner splits a filter string into tokens. Whitespace between tokens is skipped. The parser says
 * whether a value may come next (`valueMode`): after an operator, any run of printable characters
 * up to a comma or a space is one value, so `a.b-c` or `^docker\.io/` need no quoting there.
 */
export class Scanner {
  #pos = 0;

  constructor(readonly input: string) {}

  /** peek returns the next token without consuming it. */
  peek(valueMode = false): Token {
    const saved = this.#pos;
    const tok = this.scan(valueMode);
    this.#pos = saved;
    return tok;
  }

  /** scan consumes and returns the next token. */
  scan(valueMode = false): Token {
    const input = this.input;
    while (this.#pos < input.length && SPACE.test(this.#charAt(this.#pos))) {
      this.#pos += this.#charAt(this.#pos).length;
    }
    const pos = this.#pos;
    if (pos >= input.length) return { kind: 'eof', pos: input.length, text: '' };

    const ch = this.#charAt(pos);
    this.#pos += ch.length;
    if (ch === '\0') return { kind: 'illegal', pos, text: ch, err: 'unexpected null' };
    if (QUOTES.has(ch)) return this.#scanQuoted(pos, ch);
    if (ch === ',' || ch === '.') return { kind: 'separator', pos, text: ch };
    if (OPERATOR_CHARS.has(ch)) {
      this.#consumeWhile((c) => OPERATOR_CHARS.has(c));
      return { kind: 'operator', pos, text: input.slice(pos, this.#pos) };
    }
    if (valueMode && isValueChar(ch)) {
      this.#consumeWhile(isValueChar);
      return { kind: 'value', pos, text: input.slice(pos, this.#pos) };
    }
    if (isFieldChar(ch)) {
      this.#consumeWhile(isFieldChar);
      return { kind: 'field', pos, text: input.slice(pos, this.#pos) };
    }
    return { kind: 'char', pos, text: ch };
  }

  #charAt(pos: number): string {
    const cp = this.input.codePointAt(pos);
    return cp === undefined ? '' : String.fromCodePoint(cp);
  }

  #consumeWhile(pred: (ch: string) => boolean): void {
    while (this.#pos < this.input.length) {
      const ch = this.#charAt(this.#pos);
      if (!pred(ch)) return;
      this.#pos += ch.length;
    }
  }

  /**
   * Scans a quoted literal whose opening `quote` sits at `start`, checking escapes on the way. The
   * escapes are Go's (`\n`, `\x41`, `\u00e9`, `\101` …) plus the quote character itself. A bad
   * escape does not stop the scan, so the token still spans to the closing quote.
   */
  #scanQuoted(start: number, quote: string): Token {
    const input = this.input;
    let err: string | undefined;
    const fail = (msg: string): void => {
      err ??= msg;
    };
    for (;;) {
      if (this.#pos >= input.length) {
        fail('quoted literal not terminated');
        return { kind: 'illegal', pos: start, text: input.slice(start, this.#pos), err };
      }
      const ch = this.#charAt(this.#pos);
      this.#pos += ch.length;
      if (ch === quote) break;
      if (ch === '\n' || ch === '\0') {
        fail(ch === '\0' ? 'unexpected null' : 'quoted literal not terminated');
        return { kind: 'illegal', pos: start, text: input.slice(start, this.#pos), err };
      }
      if (ch === '\\') this.#scanEscape(quote, fail);
    }
    const text = input.slice(start, this.#pos);
    return err === undefined ? { kind: 'quoted', pos: start, text } : { kind: 'illegal', pos: start, text, err };
  }

  #scanEscape(quote: string, fail: (msg: string) => void): void {
    const ch = this.input[this.#pos];
    if (ch === undefined) return; // the caller reports the missing terminator
    if ('abfnrtv\\'.includes(ch) || ch === quote) {
      this.#pos += 1;
      return;
    }
    let digits: number;
    let ok: (c: string | undefined) => boolean = isHex;
    if (isOctal(ch)) {
      digits = 3;
      ok = isOctal;
    } else if (ch === 'x') {
      digits = 2;
      this.#pos += 1;
    } else if (ch === 'u') {
      digits = 4;
      this.#pos += 1;
    } else if (ch === 'U') {
      digits = 8;
      this.#pos += 1;
    } else {
      fail('illegal escape sequence');
      return;
    }
    for (; digits > 0; digits--) {
      if (!ok(this.input[this.#pos])) {
        fail('illegal numeric escape sequence');
        return;
      }
      this.#pos += 1;
    }
  }
}
