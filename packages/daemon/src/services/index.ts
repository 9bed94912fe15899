import type { Registration } from '@ctrd/plugin';
import { healthPlugin } from './health.js';
import { introspectionPlugin } from './introspection.js';
import { versionPlugin } from './version.js';

export { healthPlugin, introspectionPlugin, versionPlugin };

/** systemPlugins are the daemon's own gRPC services: introspection, version and health. */
export const systemPlugins: Registration[] = [introspectionPlugin, healthPlugin, versionPlugin] as Registration[];
