import { VersionClient } from '@ctrd/api/gen/containerd/services/version/v1/version.js';
import { IntrospectionClient as ContainerdIntrospectionClient } from '@ctrd/api/gen/containerd/services/introspection/v1/introspection.js';
import { IntrospectionClient } from '@ctrd/api/gen/ctrd/services/introspection/v1/introspection.js';
import { isNotImplemented } from '@ctrd/errdefs';
import type { CallOptions, Connection } from './connection.js';

/** ServerVersion is what Version and Introspection.Server report. */
export interface ServerVersion {
  version: string;
  revision: string;
  uuid: string;
}

/** PluginDescription is one plugin as introspection reports it. */
export interface PluginDescription {
  type: string;
  id: string;
  requires: string[];
  platforms: string[];
  exports: Record<string, string>;
  capabilities: string[];
  status: 'ok' | 'skip' | 'error';
  error?: { code: number; message: string };
  /** init time in milliseconds; only ctrd reports it. */
  initMs?: number;
}

/** serverVersion returns the daemon's version, revision and UUID. */
export async function serverVersion(conn: Connection, opts?: CallOptions): Promise<ServerVersion> {
  const v = conn.client(VersionClient);
  const i = conn.client(ContainerdIntrospectionClient);
  const [ver, srv] = await Promise.all([
    conn.unary(v, v.version, {}, { ...opts, namespace: '' }),
    conn.unary(i, i.server, {}, { ...opts, namespace: '' }),
  ]);
  return { version: ver.version, revision: ver.revision, uuid: srv.uuid };
}

const platformString = (p: { os: string; architecture: string; variant: string }) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/**
 * listPlugins returns the daemon's plugins. It asks ctrd's own introspection (status and init
 * times) and falls back to containerd's when the daemon does not offer it.
 */
export async function listPlugins(conn: Connection, filters: string[] = [], opts?: CallOptions): Promise<PluginDescription[]> {
  const own = conn.client(IntrospectionClient);
  try {
    const res = await conn.unary(own, own.plugins, { filters }, { ...opts, namespace: '' });
    return res.plugins.map((p) => ({
      type: p.type,
      id: p.id,
      requires: p.requires,
      platforms: p.platforms.map(platformString),
      exports: p.exports,
      capabilities: p.capabilities,
      status: (p.status || 'ok') as PluginDescription['status'],
      error: p.initErr ? { code: p.initErr.code, message: p.initErr.message } : undefined,
      initMs: p.initMicros / 1000,
    }));
  } catch (err) {
    if (!isNotImplemented(err)) throw err;
  }
  const c = conn.client(ContainerdIntrospectionClient);
  const res = await conn.unary(c, c.plugins, { filters }, { ...opts, namespace: '' });
  return res.plugins.map((p) => ({
    type: p.type,
    id: p.id,
    requires: p.requires,
    platforms: p.platforms.map(platformString),
    exports: p.exports,
    capabilities: p.capabilities,
    status: !p.initErr ? 'ok' : p.initErr.message.includes('skip plugin') ? 'skip' : 'error',
    error: p.initErr ? { code: p.initErr.code, message: p.initErr.message } : undefined,
  }));
}
