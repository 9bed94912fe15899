import { InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';
import { parseReference, type Reference } from '@ctrd/reference';
import { hasCapability, type HostCapability, type RegistryHost, type RegistryHosts } from '@ctrd/remotes';
import type { RegistryClient } from './registry-client.js';

/**
 * Repository is what resolver, fetcher and pusher share for one reference: the parsed
 * reference, the repository path, the registry's hosts, and the HTTP client.
 */
export class Repository {
  readonly ref: Reference;
  readonly hosts: RegistryHost[];
  readonly client: RegistryClient;

  constructor(ref: Reference, hosts: RegistryHost[], client: RegistryClient) {
    this.ref = ref;
    this.hosts = hosts;
    this.client = client;
  }

  /** open parses `ref` strictly (a registry host is required) and looks up its hosts. */
  static async open(refString: string, hosts: RegistryHosts, client: RegistryClient): Promise<Repository> {
    const ref = parseReference(refString);
    if (!ref.domain) throw new InvalidArgumentError(`reference ${JSON.stringify(refString)}: hostname required`);
    return new Repository(ref, await hosts(ref.domain), client);
  }

  /** registry is the registry name of the reference (`docker.io`, `127.0.0.1:5000`). */
  get registry(): string {
    return this.ref.domain;
  }

  /** scopes are the token scopes for this repository. */
  scopes(push: boolean): string[] {
    return [`repository:${this.ref.path}:${push ? 'pull,push' : 'pull'}`];
  }

  /**
   * withCapabilities returns the hosts that have every capability in `caps`.
   *
   * @throws NotFoundError when none has.
   */
  withCapabilities(...caps: HostCapability[]): RegistryHost[] {
    const hosts = this.hosts.filter((h) => hasCapability(h, ...caps));
    if (hosts.length === 0) throw new NotFoundError(`no ${caps.at(-1)} hosts for ${this.registry}`);
    return hosts;
  }

  /**
   * path returns the request path below a host's API prefix: `/<repository>/<parts…>`, with the
   * `ns` query naming the upstream registry when `host` is a mirror.
   */
  path(host: RegistryHost, ...parts: string[]): string {
    const p = `/${this.ref.path}/${parts.join('/')}`;
    return this.isMirror(host) ? `${p}?ns=${encodeURIComponent(this.registry)}` : p;
  }

  /** isMirror reports whether `host` serves this registry on its behalf. */
  isMirror(host: RegistryHost): boolean {
    if (host.host === this.registry) return false;
    return !(this.registry === 'docker.io' && host.host === 'registry-1.docker.io');
  }
}
