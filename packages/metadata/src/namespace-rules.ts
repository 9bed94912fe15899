import { InvalidArgumentError } from '@ctrd/errdefs';
import type { Namespace } from './namespaces.js';
import { checkLabels, compactMap } from './rules-common.js';

/**
 * applyNamespaceUpdate returns the labels a namespace has after an update: `labels` replaces
 * the map, `labels.<key>` sets one key (an empty value deletes it), no paths replaces the map.
 * Any other path is InvalidArgument `cannot update "<path>" field`.
 */
export function applyNamespaceUpdate(
  current: Readonly<Record<string, string>>,
  input: Namespace,
  fieldpaths?: readonly string[],
): Record<string, string> {
  let labels: Record<string, string> = { ...current };
  if (!fieldpaths || fieldpaths.length === 0) {
    labels = { ...input.labels };
  } else {
    for (const path of fieldpaths) {
      if (path.startsWith('labels.')) {
        const key = path.slice('labels.'.length);
        labels[key] = input.labels?.[key] ?? '';
      } else if (path === 'labels') {
        labels = { ...input.labels };
      } else {
        throw new InvalidArgumentError(`cannot update ${JSON.stringify(path)} field`);
      }
    }
  }
  const out = compactMap(labels);
  checkLabels('namespace.Labels', out);
  return out;
}
