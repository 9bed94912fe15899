import type { ProxyPluginConfig } from '@ctrd/config';
import { InvalidArgumentError } from '@ctrd/errdefs';
import { PluginType, type Platform, type Registration } from '@ctrd/plugin';
import { ProxyClients } from './proxy-clients.js';
import { ProxyContentStore } from './proxy-content-store.js';
import { ProxySnapshotter } from './proxy-snapshotter.js';

/** proxyTypeOf maps a `[proxy_plugins]` type (short or full name, as containerd accepts) to a plugin type. */
export function proxyTypeOf(type: string): typeof PluginType.Snapshot | typeof PluginType.Content {
  switch (type) {
    case 'snapshot':
    case PluginType.Snapshot:
      return PluginType.Snapshot;
    case 'content':
    case PluginType.Content:
      return PluginType.Content;
    default:
      throw new InvalidArgumentError(`unknown proxy plugin type "${type}"`);
  }
}

function platformOf(spec: string): Platform {
  const [os, architecture, variant] = spec.split('/');
  if (!os || !architecture) throw new InvalidArgumentError(`proxy plugin platform "${spec}" must be os/architecture[/variant]`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * proxyPluginRegistrations turns the `[proxy_plugins.<name>]` tables into plugins: type
 * `snapshot` registers `io.containerd.snapshotter.v1.<name>` and `content` registers
 * `io.containerd.content.v1.<name>`, each a client of the service on `address` (exported as
 * `address` in introspection). Plugins naming the same address share one connection, which is
 * dialled on first use.
 */
export function proxyPluginRegistrations(proxies: Readonly<Record<string, ProxyPluginConfig>>): Registration[] {
  const clients = new ProxyClients();
  return Object.entries(proxies).map(([name, pp]): Registration => {
    const type = proxyTypeOf(pp.type);
    const address = pp.address;
    const where: Pick<Registration, 'platforms' | 'hostPlatform'> = pp.platform ? { platforms: [platformOf(pp.platform)] } : { hostPlatform: true };
    return {
      type,
      id: name,
      ...where,
      init(ic) {
        ic.meta.exports.address = address;
        const conn = clients.acquire(address);
        ic.onClose(() => clients.release(address));
        return type === PluginType.Snapshot ? new ProxySnapshotter(conn, name) : new ProxyContentStore(conn);
      },
    };
  });
}
