/** Challenge is one authentication challenge from a `WWW-Authenticate` header. */
export interface Challenge {
  /** scheme is lower-cased: `bearer`, `basic`, … */
  scheme: string;
  /** params holds the auth-params, keys lower-cased. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/**
 * parseWwwAuthenticate parses the values of `WWW-Authenticate` headers into challenges, in order.
 * A value may hold several challenges (`Bearer realm="a", Basic realm="b"`); quoted strings may
 * contain commas and backslash escapes.
 */
export function parseWwwAuthenticate(values: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values === undefined ? [] : Array.isArray(values) ? values : [values]) {
    let s = value;
    let current: Challenge | undefined;
    const skip = (re: RegExp): void => {
      s = s.replace(re, '');
    };
    while (true) {
      skip(/^[\s,]+/);
      const t = TOKEN.exec(s);
      if (!t) break;
      const token = t[0];
      s = s.slice(token.length);
      skip(/^\s*/);
      if (s.startsWith('=') && current) {
        s = s.slice(1);
        skip(/^\s*/);
        let v: string;
        if (s.startsWith('"')) {
          let i = 1;
          v = '';
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            v += s[i];
            i++;
          }
          s = s.slice(i + 1);
        } else {
          const m = /^[^\s,]*/.exec(s)!;
          v = m[0];
          s = s.slice(v.length);
        }
        current.params[token.toLowerCase()] = v;
      } else if (s.startsWith('=')) {
        break;
      } else {
        current = { scheme: token.toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}
