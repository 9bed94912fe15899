import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

/**
 * The certificates a registry connection trusts beyond Node's own roots.
 *
 * Node 20 reads the file `NODE_EXTRA_CA_CERTS` names while it starts, before any script runs, and
 * builds its root store with it: ~40 ms here for Debian's bundle of ~140 certificates, paid by
 * every process whether or not it ever opens a TLS connection. ctrd's launchers (the daemon's,
 * ctrctl's) start node without the variable and hand its value on as
 * {@link EXTRA_CA_CERTS_ENV}; the registry client reads that file when it makes its first TLS
 * connection. A process started with `NODE_EXTRA_CA_CERTS` still set has those certificates in
 * Node's default store already; they are read again only where a host's own `ca` replaces that
 * store.
 */
export const EXTRA_CA_CERTS_ENV = 'CTRD_EXTRA_CA_CERTS';

/** The host settings {@link trustFor} builds a context from. */
export interface TrustSettings {
  /** PEM certificates to trust besides the roots (hosts.toml `ca`). */
  ca?: string[];
  /** client certificates and their keys (hosts.toml `client`). */
  clientCerts?: { cert: string; key: string }[];
}

const extraFiles = new Map<string, string | undefined>();

/**
 * extraCaCerts returns the PEM text of the file the environment names: {@link EXTRA_CA_CERTS_ENV}
 * when set (Node has not loaded it), or `NODE_EXTRA_CA_CERTS` with `forExplicitCa` (Node has, but
 * an explicit `ca` replaces its store). A file that cannot be read is skipped with a warning, as
 * Node does; each file is read once per process.
 */
export function extraCaCerts(env: NodeJS.ProcessEnv, forExplicitCa: boolean): string | undefined {
  const file = env[EXTRA_CA_CERTS_ENV] || (forExplicitCa ? env.NODE_EXTRA_CA_CERTS : undefined);
  if (!file) return undefined;
  if (!extraFiles.has(file)) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
    }
    extraFiles.set(file, text);
  }
  return extraFiles.get(file);
}

/**
 * trustFor returns the TLS context for connections to a host with these settings, or undefined
 * where Node's default context serves (no `ca`, no client certificate, no deferred extra
 * certificates). Built once per host setting and shared by its connections: a `ca` given per
 * connection would have Node parse every root certificate again for each one.
 */
export function trustFor(settings: TrustSettings, env: NodeJS.ProcessEnv = process.env): SecureContext | undefined {
  const explicit = !!settings.ca?.length;
  const extra = extraCaCerts(env, explicit);
  const clients = settings.clientCerts ?? [];
  if (!explicit && extra === undefined && clients.length === 0) return undefined;
  return createSecureContext({
    ...(explicit || extra !== undefined ? { ca: [...rootCertificates, ...(extra !== undefined ? [extra] : []), ...(settings.ca ?? [])] } : {}),
    ...(clients.length ? { cert: clients.map((c) => c.cert), key: clients.map((c) => c.key) } : {}),
  });
}
