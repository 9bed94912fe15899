/**
 * Adaptor exposes an object's fields to a filter: given a field path such as `["labels", "foo"]`
 * it returns the field's value, or `undefined` when the object has no such field.
 */
export type Adaptor = (fieldpath: readonly string[]) => string | undefined;

/** Filter decides whether the object behind an adaptor is selected. */
export interface Filter {
  match(adaptor: Adaptor): boolean;
}

/** Operator is a selector's comparison: presence (`?`, no operator written), `==`, `!=` or `~=`. */
export type Operator = '?' | '==' | '!=' | '~=';

/** always is the filter that selects everything. */
export const always: Filter = Object.freeze({ match: () => true });

/** anyOf selects what at least one of `filters` selects (and nothing when the list is empty). */
export function anyOf(filters: readonly Filter[]): Filter {
  const list = [...filters];
  return { match: (adaptor) => list.some((f) => f.match(adaptor)) };
}

/** allOf selects what every one of `filters` selects (everything when the list is empty). */
export function allOf(filters: readonly Filter[]): Filter {
  const list = [...filters];
  return { match: (adaptor) => list.every((f) => f.match(adaptor)) };
}

/**
 * Selector is one `fieldpath [op value]` term.
 *
 * The comparisons follow containerd exactly, including its treatment of absent fields: `==` needs
 * the field present, while `!=` and `~=` compare an absent field as the empty string (so
 * `labels.x!=y` selects objects without the label).
 */
export class Selector implements Filter {
  constructor(
    readonly fieldpath: readonly string[],
    readonly operator: Operator,
    readonly value: string = '',
    private readonly re?: RegExp,
  ) {}

  match(adaptor: Adaptor): boolean {
    const v = adaptor(this.fieldpath);
    switch (this.operator) {
      case '?':
        return v !== undefined;
      case '==':
        return v !== undefined && v === this.value;
      case '!=':
        return (v ?? '') !== this.value;
      case '~=':
        return this.re !== undefined && this.re.test(v ?? '');
    }
  }
}
