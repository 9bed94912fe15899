import type { Adaptor } from './filter.js';

/**
 * adaptLabels looks a label up for a filter: `fieldpath` is the path after the `labels` field,
 * joined with `.` to form the key, so `labels."foo.bar"` and `labels.foo.bar` both name the label
 * `foo.bar`. Returns `undefined` when there is no such label (an empty value is still present).
 */
export function adaptLabels(
  labels: Readonly<Record<string, string>> | undefined,
  fieldpath: readonly string[],
): string | undefined {
  if (labels === undefined || fieldpath.length === 0) return undefined;
  const key = fieldpath.join('.');
  return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
}

/** ObjectFields is the flat view of an object that {@link objectAdaptor} serves. */
export type ObjectFields = Readonly<Record<string, string | Readonly<Record<string, string>> | undefined>>;

/**
 * objectAdaptor builds an adaptor over a flat description of an object: string fields (`name`,
 * `kind`, or dotted names such as `runtime.name`) and string maps (`labels`, `annotations`, or a
 * nested message such as `target` with `digest` and `mediatype`).
 *
 * As in containerd, an empty string field counts as absent, while a map entry is present even when
 * its value is empty; a map's key is the rest of the path joined with `.` (see {@link adaptLabels}).
 */
export function objectAdaptor(fields: ObjectFields): Adaptor {
  const own = (key: string): ObjectFields[string] =>
    Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
  return (fieldpath) => {
    if (fieldpath.length === 0) return undefined;
    const head = own(fieldpath[0]!);
    if (typeof head === 'string' && fieldpath.length === 1) return head === '' ? undefined : head;
    if (head !== undefined && typeof head === 'object' && fieldpath.length > 1) {
      return adaptLabels(head, fieldpath.slice(1));
    }
    const flat = fieldpath.length > 1 ? own(fieldpath.join('.')) : undefined;
    return typeof flat === 'string' && flat !== '' ? flat : undefined;
  };
}
