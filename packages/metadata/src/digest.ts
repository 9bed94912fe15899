import { InvalidArgumentError } from '@ctrd/errdefs';

const DIGEST_FORMAT = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const ENCODED_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const LOWER_HEX = /^[a-f0-9]+$/;

/**
 * digestProblem returns why a string is not a valid digest (`algorithm:hex` with sha256, sha384 or
 * sha512 and the right number of lower-case hex digits), or undefined when it is valid. The texts
 * are those of the OCI digest library.
 */
export function digestProblem(digest: string): string | undefined {
  const i = digest.indexOf(':');
  if (i <= 0 || i + 1 === digest.length) return 'invalid checksum digest format';
  const algorithm = digest.slice(0, i);
  const encoded = digest.slice(i + 1);
  const want = ENCODED_LENGTH[algorithm];
  if (want === undefined) {
    return DIGEST_FORMAT.test(digest) ? 'unsupported digest algorithm' : 'invalid checksum digest format';
  }
  if (encoded.length !== want) return 'invalid checksum digest length';
  if (!LOWER_HEX.test(encoded)) return 'invalid checksum digest format';
  return undefined;
}

/** parseDigest returns the digest unchanged when valid and throws InvalidArgumentError otherwise. */
export function parseDigest(digest: string): string {
  const problem = digestProblem(digest);
  if (problem !== undefined) throw new InvalidArgumentError(`invalid digest ${JSON.stringify(digest)}: ${problem}`);
  return digest;
}
