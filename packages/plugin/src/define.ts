import type { Registration } from './types.js';

/** definePlugin types a registration literal; it does not register anything. */
export function definePlugin<T, C = undefined>(r: Registration<T, C>): Registration<T, C> {
  return r;
}
