import { InvalidArgumentError } from '@ctrd/errdefs';

/** MAX_LABEL_SIZE is containerd's limit on the bytes of one label's key plus value. */
export const MAX_LABEL_SIZE = 4096;

/**
 * validateLabel rejects a label whose key and value together exceed MAX_LABEL_SIZE bytes (UTF-8),
 * with containerd's message (InvalidArgument).
 */
export function validateLabel(key: string, value: string): void {
  if (Buffer.byteLength(key) + Buffer.byteLength(value) > MAX_LABEL_SIZE) {
    throw new InvalidArgumentError(
      `label key and value greater than maximum size (${MAX_LABEL_SIZE} bytes), key: ${key.slice(0, 10)}`,
    );
  }
}

/** validateLabels checks every entry of `labels` with validateLabel; an absent map is valid. */
export function validateLabels(labels: Readonly<Record<string, string>> | undefined): void {
  if (labels === undefined || labels === null) return;
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') throw new InvalidArgumentError(`label ${JSON.stringify(k)} must be a string`);
    validateLabel(k, v);
  }
}
