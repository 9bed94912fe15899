import type { Registration } from '@ctrd/plugin';
import { systemPlugins } from './services/index.js';

/**
 * builtins lists the plugins compiled into ctrd, in registration order. Importing a plugin
 * package registers nothing; this list is the one place that decides what the daemon carries.
 * Each plugin package exports its registrations (from its `plugin.ts`) as an array.
 */
export function builtins(): Registration[] {
  return [
    // storage and core plugins
    // services
    // gRPC services
    ...systemPlugins,
  ];
}
