import { FailedPreconditionError } from '@ctrd/errdefs';
import { uriOf, type Registration } from './types.js';

/**
 * requirementsOf lists the plugins among `all` that `p` waits for: every one of a type it requires,
 * or with `*` every other plugin except those that require everything too (two such plugins
 * depend on everything but each other).
 */
export function requirementsOf<T extends { type: string; requires?: readonly string[] }>(p: T, all: readonly T[]): T[] {
  const req = p.requires ?? [];
  if (req.includes('*')) return all.filter((o) => o !== p && !(o.requires ?? []).includes('*'));
  return all.filter((o) => o !== p && req.includes(o.type));
}

/**
 * graph orders registrations for init as containerd does: walking them in registration order,
 * each plugin is preceded by every enabled plugin whose type it requires (`*` = all others),
 * and each plugin appears once. Disabled URIs are removed before anything else. A requirement
 * cycle is a FailedPreconditionError naming the path (`a -> b -> a`); a plugin never depends on
 * itself, and a type with no registered plugin is simply absent (its dependents find out at init).
 */
export function graph(registrations: readonly Registration[], disabled: ReadonlySet<string> = new Set()): Registration[] {
  const enabled = registrations.filter((r) => !disabled.has(uriOf(r)));
  const ordered: Registration[] = [];
  const done = new Set<Registration>();
  const stack: Registration[] = [];

  const deps = (r: Registration): Registration[] => requirementsOf(r, enabled);

  const visit = (r: Registration): void => {
    if (done.has(r)) return;
    const at = stack.indexOf(r);
    if (at >= 0) {
      const path = [...stack.slice(at), r].map(uriOf).join(' -> ');
      throw new FailedPreconditionError(`plugin dependency cycle: ${path}`);
    }
    stack.push(r);
    for (const d of deps(r)) visit(d);
    stack.pop();
    done.add(r);
    ordered.push(r);
  };

  for (const r of enabled) visit(r);
  return ordered;
}
