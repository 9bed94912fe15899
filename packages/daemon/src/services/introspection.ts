import { IntrospectionService as ContainerdIntrospection, type Plugin } from '@ctrd/api/gen/containerd/services/introspection/v1/introspection.js';
import { IntrospectionService as CtrdIntrospection, type PluginInfo } from '@ctrd/api/gen/ctrd/services/introspection/v1/introspection.js';
import { parseAll } from '@ctrd/filters';
import { bindService, grpcCodeOf, type GrpcServicePlugin } from '@ctrd/grpc';
import { definePlugin, PluginType, type PluginRecord } from '@ctrd/plugin';
import { serverUUID } from '../server-uuid.js';

/** adaptPlugin serves introspection filter fields: `type`, `id`, `platforms`, `capabilities`. */
function adaptPlugin(p: PluginRecord) {
  return (path: readonly string[]): string | undefined => {
    switch (path[0]) {
      case 'type':
        return p.type;
      case 'id':
        return p.id;
      case 'platforms':
        return p.meta.platforms.map((x) => [x.os, x.architecture, x.variant].filter(Boolean).join('/')).join(',') || undefined;
      case 'capabilities':
        return p.meta.capabilities.join(',') || undefined;
      default:
        return undefined;
    }
  };
}

function initErr(p: PluginRecord) {
  return p.error ? { code: grpcCodeOf(p.error), message: p.error.message, details: [] } : undefined;
}

function toPlugin(p: PluginRecord): Plugin {
  return {
    type: p.type,
    id: p.id,
    requires: [...p.requires],
    platforms: p.meta.platforms.map((x) => ({ os: x.os, architecture: x.architecture, variant: x.variant ?? '' })),
    exports: { ...p.meta.exports },
    capabilities: [...p.meta.capabilities],
    initErr: initErr(p),
  };
}

/**
 * introspectionPlugin serves containerd's Introspection service (Plugins with ok/skip/error and
 * init errors, Server with a UUID created once and kept under root) and ctrd's own, which adds
 * each plugin's status, init order and init time.
 */
export const introspectionPlugin = definePlugin<GrpcServicePlugin>({
  type: PluginType.GRPC,
  id: 'introspection',
  async init(ic) {
    const uuid = serverUUID(ic.rootDir);
    const matching = (filters: string[]) => {
      const f = parseAll(filters);
      return ic.plugins().filter((p) => p.status !== 'pending' && f.match(adaptPlugin(p)));
    };
    return {
      grpcServices: () => [
        bindService(ContainerdIntrospection, {
          plugins: async (req) => ({ plugins: matching(req.filters).map(toPlugin) }),
          server: async () => ({ uuid }),
        }),
        bindService(CtrdIntrospection, {
          plugins: async (req) => ({
            plugins: matching(req.filters).map(
              (p): PluginInfo => ({
                ...toPlugin(p),
                status: p.status,
                initErr: initErr(p),
                initMicros: Math.round((p.initMs ?? 0) * 1000),
                order: ic.plugins().indexOf(p),
              }),
            ),
          }),
        }),
      ],
    };
  },
});
