import { FailedPreconditionError, InvalidArgumentError, isInvalidArgument } from '@ctrd/errdefs';
import { parseAll } from '@ctrd/filters';
import { validate, validateLabels } from '@ctrd/identifiers';

/** FieldAdaptor answers a filter's field path for one object: its value, or undefined when absent. */
export type FieldAdaptor = (fieldpath: readonly string[]) => string | undefined;

/**
 * requireNamespace checks the namespace every store call names: an empty one is FailedPrecondition
 * `namespace is required`, an invalid one InvalidArgument.
 */
export function requireNamespace(namespace: string): string {
  if (!namespace) throw new FailedPreconditionError('namespace is required');
  try {
    validate(namespace);
  } catch (err) {
    throw new InvalidArgumentError(`namespace validation: ${messageOf(err)}`, { cause: err });
  }
  return namespace;
}

/** checkLabels validates a label map, prefixing any error with `what` (e.g. `image.Labels`). */
export function checkLabels(what: string, labels: Readonly<Record<string, string>> | undefined): void {
  if (!labels) return;
  try {
    validateLabels(labels);
  } catch (err) {
    throw new InvalidArgumentError(`${what}: ${messageOf(err)}`, { cause: err });
  }
}

/** checkIdentifier validates an identifier, prefixing any error with `what` (e.g. `container.ID`). */
export function checkIdentifier(what: string, id: string): void {
  try {
    validate(id);
  } catch (err) {
    throw new InvalidArgumentError(`${what}: ${messageOf(err)}`, { cause: err });
  }
}

/** compactMap copies a string map without its empty values (an empty value means "no such key"). */
export function compactMap(map: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!map) return out;
  for (const [k, v] of Object.entries(map)) if (v !== '') out[k] = v;
  return out;
}

/** mapField answers a filter path into a string map (`labels.a.b` looks up key `a.b`). */
export function mapField(rest: readonly string[], map: Readonly<Record<string, string>> | undefined): string | undefined {
  if (!map) return undefined;
  const key = rest.join('.');
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

/** nonEmpty returns the value, or undefined when it is empty (a filter then sees the field as absent). */
export function nonEmpty(value: string | undefined): string | undefined {
  return value ? value : undefined;
}

/**
 * filterBy parses `filters` once (a parse error is InvalidArgument) and returns a predicate over
 * objects, seen through `adapt`. No filters, or only empty strings, match everything.
 */
export function filterBy<T>(filters: readonly string[] | undefined, adapt: (item: T) => FieldAdaptor): (item: T) => boolean {
  let filter;
  try {
    filter = parseAll(filters ?? []);
  } catch (err) {
    if (isInvalidArgument(err)) throw err;
    throw new InvalidArgumentError(messageOf(err), { cause: err });
  }
  return (item) => filter.match(adapt(item));
}

/** messageOf returns an error's message, or its string form. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
