import { InvalidArgumentError } from '@ctrd/errdefs';

/** MAX_IDENTIFIER_LENGTH is the longest identifier accepted, in bytes (UTF-8). */
export const MAX_IDENTIFIER_LENGTH = 76;

/** IDENTIFIER_PATTERN is the rule every identifier must match, as containerd spells it. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$/;

/* quote renders a string the way Go's `%q` does for the characters identifiers meet in practice. */
function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * validate throws an `InvalidArgumentError` unless `id` is a valid identifier.
 *
 * The messages follow containerd: `identifier must not be empty`,
 * `identifier "x" greater than maximum length (76 characters)` and
 * `identifier "x" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$`.
 */
export function validate(id: string): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidArgumentError('identifier must not be empty');
  }
  // containerd measures the length in bytes, so a long non-ASCII string is "too long" before it is "malformed".
  if (Buffer.byteLength(id, 'utf8') > MAX_IDENTIFIER_LENGTH) {
    throw new InvalidArgumentError(
      `identifier ${quote(id)} greater than maximum length (${MAX_IDENTIFIER_LENGTH} characters)`,
    );
  }
  if (!IDENTIFIER_PATTERN.test(id)) {
    throw new InvalidArgumentError(`identifier ${quote(id)} must match ${IDENTIFIER_PATTERN.source}`);
  }
}

/** isValid reports whether `id` is a valid identifier, without throwing. */
export function isValid(id: string): boolean {
  return (
    typeof id === 'string' &&
    id.length > 0 &&
    Buffer.byteLength(id, 'utf8') <= MAX_IDENTIFIER_LENGTH &&
    IDENTIFIER_PATTERN.test(id)
  );
}
