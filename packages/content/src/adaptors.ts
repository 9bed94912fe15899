import { adaptLabels, parseAll, type Adaptor, type Filter } from '@ctrd/filters';
import type { Info, Status } from './types.js';

/**
 * adaptInfo exposes an Info to the filter grammar: `digest`, `size` (decimal) and
 * `labels.<key>` (the rest of the path joined with dots).
 */
export function adaptInfo(info: Info): Adaptor {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case 'digest':
        return fieldpath.length === 1 ? info.digest : undefined;
      case 'size':
        return fieldpath.length === 1 ? String(info.size) : undefined;
      case 'labels':
        return adaptLabels(info.labels, fieldpath.slice(1));
      default:
        return undefined;
    }
  };
}

/** adaptStatus exposes a Status to the filter grammar: only `ref`. */
export function adaptStatus(status: Status): Adaptor {
  return (fieldpath) => (fieldpath[0] === 'ref' && fieldpath.length === 1 ? status.ref : undefined);
}

/**
 * parseFilters parses a store call's filter list (any one must match; none or only empty
 * strings match everything). A syntax error is InvalidArgument, raised by `@ctrd/filters`.
 */
export function parseFilters(filters: readonly string[] | undefined): Filter {
  return parseAll(filters ?? []);
}
