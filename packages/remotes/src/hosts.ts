/** HostCapability is one thing a registry host may be used for. */
export type HostCapability = 'pull' | 'resolve' | 'push';

/** ALL_CAPABILITIES is what an upstream host has when its configuration names none. */
export const ALL_CAPABILITIES: readonly HostCapability[] = ['pull', 'resolve', 'push'];

/** RegistryHostTLS is the TLS configuration of one host. */
export interface RegistryHostTLS {
  /** ca holds PEM certificates trusted in addition to the system roots. */
  ca?: string[];
  /** cert and key are a PEM client certificate pair. */
  clientCerts?: Array<{ cert: string; key: string }>;
  /** skipVerify disables server certificate verification. */
  skipVerify?: boolean;
}

/**
 * RegistryHost is one endpoint that can serve a registry: a mirror or the upstream itself. A
 * resolver tries the hosts of a registry in order, skipping those without the needed capability.
 */
export interface RegistryHost {
  /** scheme is `https` or `http`. */
  scheme: 'http' | 'https';
  /** host is `hostname[:port]`. */
  host: string;
  /** path is the API prefix, normally `/v2`. */
  path: string;
  /** capabilities say what the host may be used for. */
  capabilities: readonly HostCapability[];
  /** header holds extra request headers for this host. */
  header?: Record<string, string | string[]>;
  /** tls configures the connection to an https host. */
  tls?: RegistryHostTLS;
}

/** RegistryHosts returns the hosts for a registry name (`docker.io`, `127.0.0.1:5000`), in order. */
export type RegistryHosts = (registry: string) => RegistryHost[] | Promise<RegistryHost[]>;

/** hasCapability reports whether `host` has every capability in `need`. */
export function hasCapability(host: RegistryHost, ...need: HostCapability[]): boolean {
  return need.every((c) => host.capabilities.includes(c));
}

/** isLocalhost reports whether `host` (`name[:port]`) is `localhost` or a loopback address. */
export function isLocalhost(host: string): boolean {
  let h = host;
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(h);
  if (bracket) h = bracket[1]!;
  else if ((h.match(/:/g) ?? []).length === 1) h = h.slice(0, h.indexOf(':'));
  if (h === 'localhost' || h === '::1') return true;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return !!m && m[1] === '127' && m.slice(1).every((x) => Number(x) <= 255);
}
