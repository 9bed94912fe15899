import { InvalidArgumentError } from '@ctrd/errdefs';
import { Scanner, type Token } from './scanner.js';
import { unquote } from './quote.js';
import { compileGoRegexp } from './regexp.js';
import { Selector, allOf, always, anyOf, type Filter, type Operator } from './filter.js';

const OPERATORS: ReadonlySet<string> = new Set(['==', '!=', '~=']);

/** Renders where in `input` an error occurred: `[before >|c|< after]`, or `[input]` at the end. */
function locate(input: string, pos: number): string {
  if (pos >= input.length) return `[${input}]`;
  const ch = String.fromCodePoint(input.codePointAt(pos)!);
  return `[${input.slice(0, pos)} >|${ch}|< ${input.slice(pos + ch.length)}]`;
}

class Parser {
  readonly #scanner: Scanner;

  constructor(readonly input: string) {
    this.#scanner = new Scanner(input);
  }

  parse(): Filter {
    const selectors: Filter[] = [this.#selector()];
    for (;;) {
      const tok = this.#scanner.peek();
      if (tok.kind === 'eof') break;
      if (tok.kind === 'separator' && tok.text === ',') {
        this.#scanner.scan();
        selectors.push(this.#selector());
        continue;
      }
      throw this.#error(tok, `unexpected input: ${tok.text}`);
    }
    return selectors.length === 1 ? selectors[0]! : allOf(selectors);
  }

  #selector(): Selector {
    const fieldpath = this.#fieldpath();
    const next = this.#scanner.peek();
    if (next.kind === 'eof' || (next.kind === 'separator' && next.text === ',')) {
      return new Selector(fieldpath, '?');
    }
    const op = this.#operator();
    const valueTok = this.#scanner.scan(true);
    const value = this.#value(valueTok, op === '~=');
    if (op !== '~=') return new Selector(fieldpath, op, value);
    try {
      return new Selector(fieldpath, op, value, compileGoRegexp(value));
    } catch (err) {
      throw this.#error(valueTok, `invalid regular expression ${JSON.stringify(value)}: ${(err as Error).message}`, err);
    }
  }

  #fieldpath(): string[] {
    const path = [this.#field()];
    for (;;) {
      const tok = this.#scanner.peek();
      if (tok.kind !== 'separator' || tok.text !== '.') return path;
      this.#scanner.scan();
      path.push(this.#field());
    }
  }

  #field(): string {
    const tok = this.#scanner.scan();
    switch (tok.kind) {
      case 'field':
        return tok.text;
      case 'quoted':
        return this.#unquote(tok, false);
      case 'illegal':
        throw this.#error(tok, tok.err!);
      default:
        throw this.#error(tok, 'expected field or quoted');
    }
  }

  #operator(): Exclude<Operator, '?'> {
    const tok = this.#scanner.scan();
    switch (tok.kind) {
      case 'operator':
        if (OPERATORS.has(tok.text)) return tok.text as Exclude<Operator, '?'>;
        throw this.#error(tok, `unsupported operator ${JSON.stringify(tok.text)}`);
      case 'illegal':
        throw this.#error(tok, tok.err!);
      default:
        throw this.#error(tok, 'expected an operator ("=="|"!="|"~=")');
    }
  }

  #value(tok: Token, allowAltQuotes: boolean): string {
    switch (tok.kind) {
      case 'value':
      case 'field':
        return tok.text;
      case 'quoted':
        return this.#unquote(tok, allowAltQuotes);
      case 'illegal':
        throw this.#error(tok, tok.err!);
      default:
        throw this.#error(tok, 'expected value or quoted');
    }
  }

  /** Only `~=` values may use the `/…/` and `|…|` quotes, which spare a regexp from escaping `"`. */
  #unquote(tok: Token, allowAltQuotes: boolean): string {
    if (!allowAltQuotes && tok.text[0] !== '"') throw this.#error(tok, 'invalid quote encountered');
    try {
      return unquote(tok.text);
    } catch (err) {
      throw this.#error(tok, `unquoting failed: ${(err as Error).message}`, err);
    }
  }

  #error(tok: Token, msg: string, cause?: unknown): InvalidArgumentError {
    return new InvalidArgumentError(
      `filters: parse error: ${locate(this.input, tok.pos)}: ${msg}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * parse compiles one filter string: comma-separated selectors that must all match. The empty
 * string selects everything. Throws `InvalidArgumentError` naming the position of a syntax error,
 * e.g. `filters: parse error: [labels. >|?|< foo]: expected field or quoted`.
 */
export function parse(s: string): Filter {
  if (s === '') return always;
  return new Parser(s).parse();
}

/**
 * parseAll compiles a request's `filters` list: the strings are alternatives (OR), each parsed by
 * {@link parse}. An empty list, or any `""` among the strings, selects everything.
 */
export function parseAll(filters: readonly string[]): Filter {
  if (filters.length === 0) return always;
  const parsed = filters.map(parse);
  return parsed.includes(always) ? always : anyOf(parsed);
}
