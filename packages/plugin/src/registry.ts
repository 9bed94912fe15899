import { AlreadyExistsError, InvalidArgumentError } from '@ctrd/errdefs';
import { uriOf, type Registration } from './types.js';
import { validateSection } from './schema.js';

/**
 * Registry holds plugin registrations in registration order. It rejects an empty type or ID,
 * a duplicate URI, a `*` mixed with other requirements and defaults that fail their own schema,
 * so a mistake in a plugin shows when it is registered, not when it is first configured.
 */
export class Registry {
  readonly #byUri = new Map<string, Registration>();

  /** register adds a registration; it throws on an invalid or duplicate one. */
  register(r: Registration): this {
    if (!r.type) throw new InvalidArgumentError('plugin: no type');
    if (!r.id) throw new InvalidArgumentError(`plugin: no id for type ${r.type}`);
    if (/\s/.test(r.type) || /\s/.test(r.id)) throw new InvalidArgumentError(`plugin: invalid uri "${uriOf(r)}"`);
    if (typeof r.init !== 'function') throw new InvalidArgumentError(`plugin ${uriOf(r)}: no init function`);
    const uri = uriOf(r);
    if (this.#byUri.has(uri)) throw new AlreadyExistsError(`plugin: id already registered: ${uri}`);
    const req = r.requires ?? [];
    if (req.includes('*') && req.length !== 1) {
      throw new InvalidArgumentError(`plugin ${uri}: "*" must be the only requirement`);
    }
    if (r.config) validateSection(r.config.schema, r.config.defaults, r.config.defaults, `[plugins."${uri}"]`);
    this.#byUri.set(uri, r);
    return this;
  }

  /** registerAll registers each registration in order. */
  registerAll(rs: Iterable<Registration>): this {
    for (const r of rs) this.register(r);
    return this;
  }

  /** get returns the registration with the URI, if any. */
  get(uri: string): Registration | undefined {
    return this.#byUri.get(uri);
  }

  /** has reports whether the URI is registered. */
  has(uri: string): boolean {
    return this.#byUri.has(uri);
  }

  /** list returns every registration in registration order. */
  list(): Registration[] {
    return [...this.#byUri.values()];
  }
}
