import { InvalidArgumentError } from '@ctrd/errdefs';
import { DIGEST_RE } from './grammar.js';

/** DIGEST_HEX_LENGTHS maps each supported digest algorithm to the length of its hex encoding. */
export const DIGEST_HEX_LENGTHS: Readonly<Record<string, number>> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

/**
 * validateDigest checks that `s` is `algorithm:hex` with a supported algorithm and an encoded
 * part of the right length in lower-case hex, and returns it unchanged.
 *
 * @throws InvalidArgumentError naming what is wrong.
 */
export function validateDigest(s: string): string {
  const i = s.indexOf(':');
  if (i <= 0 || i === s.length - 1 || !DIGEST_RE.test(s)) {
    throw new InvalidArgumentError(`invalid digest ${JSON.stringify(s)}: invalid checksum digest format`);
  }
  const algorithm = s.slice(0, i);
  const hex = s.slice(i + 1);
  const want = DIGEST_HEX_LENGTHS[algorithm];
  if (want === undefined) {
    throw new InvalidArgumentError(`invalid digest ${JSON.stringify(s)}: unsupported digest algorithm`);
  }
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) {
    throw new InvalidArgumentError(`invalid digest ${JSON.stringify(s)}: invalid checksum digest length`);
  }
  return s;
}

/** isDigest reports whether `s` is a valid digest string (see {@link validateDigest}). */
export function isDigest(s: string): boolean {
  try {
    validateDigest(s);
    return true;
  } catch {
    return false;
  }
}
