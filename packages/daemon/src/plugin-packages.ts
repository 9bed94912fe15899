import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FailedPreconditionError } from '@ctrd/errdefs';
import type { Registration } from '@ctrd/plugin';
import { dynamicImport } from '@ctrd/code-cache';

function isRegistration(x: unknown): x is Registration {
  return typeof x === 'object' && x !== null && typeof (x as Registration).type === 'string' && typeof (x as Registration).id === 'string' && typeof (x as Registration).init === 'function';
}

/** registrationsOf collects registrations from a module: arrays and single registrations among its exports. */
function registrationsOf(mod: Record<string, unknown>): Registration[] {
  const out: Registration[] = [];
  const add = (v: unknown) => {
    if (Array.isArray(v)) v.filter(isRegistration).forEach((r) => out.includes(r) || out.push(r));
    else if (isRegistration(v) && !out.includes(v)) out.push(v);
  };
  add(mod.default);
  for (const [k, v] of Object.entries(mod)) if (k !== 'default') add(v);
  return out;
}

/**
 * loadPluginPackages imports each configured npm package (resolved from `pluginDir`'s
 * node_modules, or ctrd's own) and returns the registrations it exports: arrays of
 * registrations or single ones, as the builtins are shaped. A package that cannot be loaded,
 * or exports no registration, stops start-up with an error naming it.
 */
export async function loadPluginPackages(names: readonly string[], pluginDir: string): Promise<Registration[]> {
  const req = createRequire(pluginDir ? join(pluginDir, 'package.json') : import.meta.url);
  const all: Registration[] = [];
  for (const name of names) {
    let mod: Record<string, unknown>;
    try {
      mod = await dynamicImport(pathToFileURL(req.resolve(name)).href);
    } catch (err) {
      throw new FailedPreconditionError(`load plugin package "${name}": ${(err as Error).message}`, { cause: err });
    }
    const regs = registrationsOf(mod);
    if (regs.length === 0) throw new FailedPreconditionError(`plugin package "${name}" exports no plugin registrations`);
    all.push(...regs);
  }
  return all;
}
