/**
 * Translation of Go (RE2) regular expressions to JavaScript ones.
 *
 * Filters written for containerd use Go's syntax, which differs from JavaScript's in small ways:
 * `(?i)` flag groups, `(?P<name>…)`, `\A`/`\z`, `\Q…\E`, POSIX classes such as `[[:alpha:]]`,
 * `\pL`, `\x{263a}`, octal escapes, `\` before any punctuation, and a `{` that is taken literally
 * when it does not start a repeat count. These are rewritten; Go's `\s` and `.` keep their narrower
 * Go meaning. What RE2 itself rejects (look-around, back-references) and what JavaScript cannot
 * express (flag groups after the start, `(?U)`, negated POSIX classes) is refused.
 */

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`\\{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const GO_SPACE = '\\t\\n\\f\\r ';
const GO_NON_SPACE = '\\x00-\\x08\\x0B\\x0E-\\x1F!-\\u{10FFFF}';
const MAX_REPEAT = 1000;

/** RegexpSyntaxError explains why a Go regular expression cannot be used. */
class RegexpSyntaxError extends Error {}

function hexEscape(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/** Renders one literal character so that it means itself both inside and outside a class. */
function literal(ch: string): string {
  return /^[A-Za-z0-9_]$/.test(ch) || ch.codePointAt(0)! > 0x7f ? ch : hexEscape(ch.codePointAt(0)!);
}

function unicodeProperty(name: string, negated: boolean): string {
  const p = negated ? 'P' : 'p';
  if (name === 'Any') return negated ? '[^\\s\\S]' : '[\\s\\S]';
  for (const candidate of [name, `Script=${name}`]) {
    try {
      new RegExp(`\\p{${candidate}}`, 'u');
      return `\\${p}{${candidate}}`;
    } catch {
      // try the next spelling
    }
  }
  throw new RegexpSyntaxError(`invalid character class range \\p{${name}}`);
}

class Translator {
  #i = 0;
  #out = '';
  #inClass = false;
  #flags = new Set<string>(['u']);

  constructor(private readonly src: string) {}

  run(): RegExp {
    this.#leadingFlags();
    while (this.#i < this.src.length) {
      if (this.#inClass) this.#classChar();
      else this.#char();
    }
    if (this.#inClass) throw new RegexpSyntaxError('missing closing ]');
    try {
      return new RegExp(this.#out, [...this.#flags].sort().join(''));
    } catch (err) {
      throw new RegexpSyntaxError((err as Error).message.replace(/^Invalid regular expression: /, ''));
    }
  }

  /** A flag group at the very start applies to the whole pattern, so it becomes a RegExp flag. */
  #leadingFlags(): void {
    for (;;) {
      const m = /^\(\?([imsU]*)(?:-([imsU]*))?\)/.exec(this.src.slice(this.#i));
      if (!m || m[0] === '(?)' || m[0] === '(?-)') return;
      for (const f of m[1] ?? '') this.#setFlag(f, true);
      for (const f of m[2] ?? '') this.#setFlag(f, false);
      this.#i += m[0].length;
    }
  }

  #setFlag(f: string, on: boolean): void {
    if (f === 'U') {
      if (on) throw new RegexpSyntaxError('ungreedy mode (?U) is not supported');
      return;
    }
    if (on) this.#flags.add(f);
    else this.#flags.delete(f);
  }

  #char(): void {
    const src = this.src;
    const ch = String.fromCodePoint(src.codePointAt(this.#i)!);
    this.#i += ch.length;
    switch (ch) {
      case '\\':
        this.#out += this.#escape();
        return;
      case '(':
        this.#out += this.#group();
        return;
      case '[':
        this.#openClass();
        return;
      case ']':
      case '}':
        this.#out += literal(ch);
        return;
      case '.':
        this.#out += this.#flags.has('s') ? '[\\s\\S]' : '[^\\n]';
        return;
      case '{': {
        const m = /^(\d+)(,(\d*))?\}/.exec(src.slice(this.#i));
        if (!m) {
          this.#out += literal(ch);
          return;
        }
        const lo = Number(m[1]);
        const hi = m[3] ? Number(m[3]) : lo;
        if (lo > MAX_REPEAT || hi > MAX_REPEAT || (m[3] && hi < lo)) {
          throw new RegexpSyntaxError(`invalid repeat count {${m[0]}`);
        }
        this.#out += `{${m[0]}`;
        this.#i += m[0].length;
        return;
      }
      default:
        this.#out += ch;
    }
  }

  #group(): string {
    const rest = this.src.slice(this.#i);
    if (!rest.startsWith('?')) return '(';
    if (rest.startsWith('?:')) {
      this.#i += 2;
      return '(?:';
    }
    const named = /^\?P?<([A-Za-z0-9_]+)>/.exec(rest);
    if (named) {
      this.#i += named[0].length;
      return `(?<${named[1]}>`;
    }
    if (/^\?<?[=!]/.test(rest)) throw new RegexpSyntaxError('look-around assertions are not supported');
    if (/^\?-?[imsU]/.test(rest)) {
      throw new RegexpSyntaxError('flag groups are only supported at the start of the expression');
    }
    throw new RegexpSyntaxError(`invalid or unsupported Perl syntax: (${rest.slice(0, 2)}`);
  }

  #openClass(): void {
    this.#inClass = true;
    this.#out += '[';
    if (this.src[this.#i] === '^') {
      this.#out += '^';
      this.#i += 1;
    }
    // In Go a `]` right after the opening bracket is a literal, not an empty class.
    if (this.src[this.#i] === ']') {
      this.#out += '\\]';
      this.#i += 1;
    }
  }

  #classChar(): void {
    const src = this.src;
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(this.#i));
    if (posix) {
      const ranges = POSIX_CLASSES[posix[2]!];
      if (ranges === undefined) throw new RegexpSyntaxError(`invalid character class range ${posix[0]}`);
      if (posix[1]) throw new RegexpSyntaxError(`negated POSIX classes are not supported: ${posix[0]}`);
      this.#out += ranges;
      this.#i += posix[0].length;
      return;
    }
    const ch = String.fromCodePoint(src.codePointAt(this.#i)!);
    this.#i += ch.length;
    if (ch === ']') {
      this.#inClass = false;
      this.#out += ']';
    } else if (ch === '\\') {
      this.#out += this.#escape();
    } else if (ch === '[' || ch === '{' || ch === '}' || ch === '(' || ch === ')' || ch === '|' || ch === '/') {
      this.#out += literal(ch);
    } else {
      this.#out += ch;
    }
  }

  /** Translates the escape after a backslash, which has been consumed. */
  #escape(): string {
    const src = this.src;
    if (this.#i >= src.length) throw new RegexpSyntaxError('trailing backslash at end of expression');
    const c = String.fromCodePoint(src.codePointAt(this.#i)!);
    this.#i += c.length;
    const inClass = this.#inClass;
    switch (c) {
      case 'd': case 'D': case 'w': case 'W': case 'f': case 't': case 'n': case 'r': case 'v':
        return `\\${c}`;
      case 'a':
        return '\\x07';
      case 's':
        return inClass ? GO_SPACE : `[${GO_SPACE}]`;
      case 'S':
        return inClass ? GO_NON_SPACE : `[^${GO_SPACE}]`;
      case 'b': case 'B':
        if (inClass) throw new RegexpSyntaxError(`invalid escape sequence: \\${c}`);
        return `\\${c}`;
      case 'A':
        if (inClass) throw new RegexpSyntaxError('invalid escape sequence: \\A');
        return '(?<![\\s\\S])';
      case 'z':
        if (inClass) throw new RegexpSyntaxError('invalid escape sequence: \\z');
        return '(?![\\s\\S])';
      case 'Q': {
        const end = src.indexOf('\\E', this.#i);
        const text = src.slice(this.#i, end < 0 ? src.length : end);
        this.#i = end < 0 ? src.length : end + 2;
        return Array.from(text, literal).join('');
      }
      case 'p': case 'P':
        return this.#property(c === 'P');
      case 'x':
        return this.#hex();
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      // Go: `\0` starts an octal escape; `\1`–`\7` must be followed by an octal digit (back-references do not exist).
      const m = /^[0-7]{0,2}/.exec(src.slice(this.#i))![0];
      if (c !== '0' && m.length === 0) throw new RegexpSyntaxError(`invalid escape sequence: \\${c}`);
      this.#i += m.length;
      return hexEscape(parseInt(c + m, 8));
    }
    if (c.length === 1 && c.codePointAt(0)! < 0x80 && !/^[A-Za-z0-9_]$/.test(c)) return literal(c);
    throw new RegexpSyntaxError(`invalid escape sequence: \\${c}`);
  }

  #property(negatedByCase: boolean): string {
    const src = this.src;
    let name: string;
    if (src[this.#i] === '{') {
      const end = src.indexOf('}', this.#i);
      if (end < 0) throw new RegexpSyntaxError('invalid character class range: missing }');
      name = src.slice(this.#i + 1, end);
      this.#i = end + 1;
    } else {
      name = src[this.#i] ?? '';
      this.#i += 1;
    }
    let negated = negatedByCase;
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) throw new RegexpSyntaxError(`invalid character class range \\p{${name}}`);
    const prop = unicodeProperty(name, negated);
    if (this.#inClass && prop.startsWith('[')) {
      throw new RegexpSyntaxError(`\\p{Any} is not supported inside a class`);
    }
    return prop;
  }

  #hex(): string {
    const src = this.src;
    const rest = src.slice(this.#i);
    const braced = /^\{([0-9A-Fa-f]{1,8})\}/.exec(rest);
    const plain = /^[0-9A-Fa-f]{2}/.exec(rest);
    const m = braced ?? plain;
    if (!m) throw new RegexpSyntaxError('invalid escape sequence: \\x');
    const cp = parseInt(braced ? braced[1]! : m[0], 16);
    if (cp > 0x10ffff) throw new RegexpSyntaxError(`invalid escape sequence: \\x${m[0]}`);
    this.#i += m[0].length;
    return hexEscape(cp);
  }
}

/**
 * compileGoRegexp turns a Go (RE2) regular expression into an equivalent JavaScript `RegExp`
 * (unanchored, like Go's `MatchString`). Throws an Error naming the problem when the expression is
 * malformed or uses syntax that cannot be carried over.
 */
export function compileGoRegexp(source: string): RegExp {
  return new Translator(source).run();
}
