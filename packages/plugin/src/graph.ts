import { FailedPreconditionError } from '@ctrd/errdefs';
import { uriOf, type Registration } from './types.js';

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

  const deps = (r: Registration): Registration[] => {
    const req = r.requires ?? [];
    // Two plugins that both require everything depend on everything but each other.
    if (req.includes('*')) return enabled.filter((o) => o !== r && !(o.requires ?? []).includes('*'));
    return enabled.filter((o) => o !== r && req.includes(o.type));
  };

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
