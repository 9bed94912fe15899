import { InvalidArgumentError } from '@ctrd/errdefs';
import { validateLabels } from './labels.js';

/**
 * applyLabelUpdate computes the labels a blob has after `Manager.update`: with no `fieldpaths`,
 * or with `labels`, the whole set becomes `labels`; `labels.<key>` copies that key from `labels`
 * (absent or empty deletes it). Empty values never survive. Any other path is InvalidArgument,
 * as is a resulting label over the size limit. `current` is not modified.
 */
export function applyLabelUpdate(
  digest: string,
  current: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>> | undefined,
  fieldpaths?: readonly string[],
): Record<string, string> {
  const given = labels ?? {};
  let next: Record<string, string>;
  if (fieldpaths === undefined || fieldpaths.length === 0) {
    next = { ...given };
  } else {
    let replaceAll = false;
    const keys: string[] = [];
    for (const path of fieldpaths) {
      if (path === 'labels') replaceAll = true;
      else if (path.startsWith('labels.') && path.length > 'labels.'.length) keys.push(path.slice('labels.'.length));
      else throw new InvalidArgumentError(`cannot update ${JSON.stringify(path)} field on content info ${JSON.stringify(digest)}`);
    }
    next = replaceAll ? { ...given } : { ...current };
    for (const k of keys) {
      const v = Object.prototype.hasOwnProperty.call(given, k) ? given[k] : undefined;
      if (v === undefined || v === '') delete next[k];
      else next[k] = v;
    }
  }
  for (const [k, v] of Object.entries(next)) if (v === '') delete next[k];
  validateLabels(next);
  return next;
}
