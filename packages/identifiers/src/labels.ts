import { InvalidArgumentError } from '@ctrd/errdefs';

/** MAX_LABEL_SIZE is the most bytes (UTF-8) a label's key and value may take together. */
export const MAX_LABEL_SIZE = 4096;

/**
 * validateLabel throws an `InvalidArgumentError` when `key` is empty or when `key` and `value`
 * together exceed {@link MAX_LABEL_SIZE} bytes. The size message names at most the first ten
 * characters of the key, as containerd does:
 * `label key and value greater than maximum size (4096 bytes), key: containerd`.
 */
export function validateLabel(key: string, value: string): void {
  if (key.length === 0) {
    throw new InvalidArgumentError('label key must not be empty');
  }
  if (Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8') > MAX_LABEL_SIZE) {
    const shown = Array.from(key).slice(0, 10).join('');
    throw new InvalidArgumentError(
      `label key and value greater than maximum size (${MAX_LABEL_SIZE} bytes), key: ${shown}`,
    );
  }
}

/**
 * validateLabels checks every entry of `labels` with {@link validateLabel} and throws on the first
 * bad one. An absent map is valid.
 */
export function validateLabels(labels: Readonly<Record<string, string>> | undefined): void {
  if (labels === undefined) return;
  for (const [key, value] of Object.entries(labels)) {
    validateLabel(key, value);
  }
}
