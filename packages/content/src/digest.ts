import { createHash } from 'node:crypto';
import { InvalidArgumentError, NotImplementedError } from '@ctrd/errdefs';

/** DigestAlgorithm lists the algorithms ctrd stores content under (only sha256). */
export type DigestAlgorithm = 'sha256';

/** ParsedDigest is a digest split into its algorithm and lower-case hex. */
export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** EMPTY_DIGEST is the sha256 digest of zero bytes. */
export const EMPTY_DIGEST = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const SHA256_HEX = /^[a-f0-9]{64}$/;
const ALGORITHM = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;
// Algorithms that OCI digests may use and containerd stores, which ctrd does not implement.
const KNOWN_UNSUPPORTED = new Set(['sha384', 'sha512']);

/**
 * parseDigest splits `sha256:<64 lower-case hex>` into its parts. A malformed digest or an unknown
 * algorithm is InvalidArgument; sha384 and sha512, valid elsewhere, are NotImplemented.
 */
export function parseDigest(digest: string): ParsedDigest {
  if (typeof digest !== 'string') throw new InvalidArgumentError('invalid checksum digest format');
  const i = digest.indexOf(':');
  if (i <= 0 || i === digest.length - 1) {
    throw new InvalidArgumentError(`invalid checksum digest format: ${JSON.stringify(digest)}`);
  }
  const algorithm = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  if (!ALGORITHM.test(algorithm)) {
    throw new InvalidArgumentError(`invalid checksum digest format: ${JSON.stringify(digest)}`);
  }
  if (algorithm !== 'sha256') {
    if (KNOWN_UNSUPPORTED.has(algorithm)) {
      throw new NotImplementedError(`digest algorithm ${algorithm} (${digest})`);
    }
    throw new InvalidArgumentError(`unsupported digest algorithm: ${JSON.stringify(digest)}`);
  }
  if (!SHA256_HEX.test(hex)) {
    throw new InvalidArgumentError(
      hex.length === 64
        ? `invalid checksum digest format: ${JSON.stringify(digest)}`
        : `invalid checksum digest length: ${JSON.stringify(digest)}`,
    );
  }
  return { algorithm, hex };
}

/** validateDigest returns `digest` unchanged when well formed and supported, else throws as parseDigest does. */
export function validateDigest(digest: string): string {
  parseDigest(digest);
  return digest;
}

/** digestFromBytes is the sha256 digest of `data`, in `sha256:<hex>` form. */
export function digestFromBytes(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
