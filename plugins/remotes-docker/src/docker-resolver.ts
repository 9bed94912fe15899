import { createHash } from 'node:crypto';
import { InvalidArgumentError, NotFoundError, OutOfRangeError, isNotFound } from '@ctrd/errdefs';
import { isDigest } from '@ctrd/reference';
import { MANIFEST_ACCEPT, stripParams, type Descriptor, type RegistryHosts, type RequestOptions, type Resolved, type Resolver } from '@ctrd/remotes';
import type { CredentialsFn } from './authorizer.js';
import { DockerFetcher } from './docker-fetcher.js';
import { DockerPusher } from './docker-pusher.js';
import { statusError } from './errors.js';
import { configureHosts } from './hosts-config.js';
import { RegistryClient, header, type RegistryResponse, type RetryOptions } from './registry-client.js';
import { Repository } from './repository.js';

/** MAX_MANIFEST_SIZE is the largest manifest a resolver accepts (4 MiB, as containerd). */
export const MAX_MANIFEST_SIZE = 4 << 20;

/** DockerResolverOptions configure {@link createDockerResolver}. */
export interface DockerResolverOptions {
  /** hosts gives each registry's hosts; when unset they come from `hostsDir` and the defaults. */
  hosts?: RegistryHosts;
  /** hostsDir is a directory of `<registry>/hosts.toml` files (used when `hosts` is unset). */
  hostsDir?: string;
  /** credentials gives a username and password (or refresh token) per registry host. */
  credentials?: CredentialsFn;
  /** plainHttp makes upstream registries use HTTP (loopback registries do anyway). */
  plainHttp?: boolean | ((registry: string) => boolean);
  /** headers are added to every request. */
  headers?: Record<string, string | string[]>;
  /** userAgent is the `User-Agent` sent. */
  userAgent?: string;
  /** retry bounds the retries on 408, 429 and 5xx. */
  retry?: RetryOptions;
}

/** DockerResolver is a {@link Resolver} over the registry API v2 that owns a connection pool. */
export interface DockerResolver extends Resolver {
  fetcher(ref: string): Promise<DockerFetcher>;
  pusher(ref: string): Promise<DockerPusher>;
  /** close ends the pooled connections. */
  close(): Promise<void>;
}

/**
 * createDockerResolver returns a resolver speaking the Docker registry API v2 (OCI distribution):
 * tags and digests are resolved with HEAD (GET when the registry gives no digest or size),
 * trying each capable host in order (mirrors first).
 */
export function createDockerResolver(opts: DockerResolverOptions = {}): DockerResolver {
  const client = new RegistryClient({
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
  const hosts = opts.hosts ?? configureHosts({
    ...(opts.hostsDir ? { hostsDir: opts.hostsDir } : {}),
    ...(opts.plainHttp !== undefined ? { plainHttp: opts.plainHttp } : {}),
  });
  const open = (ref: string): Promise<Repository> => Repository.open(ref, hosts, client);
  return {
    async resolve(ref: string, ropts?: RequestOptions): Promise<Resolved> {
      const repo = await open(ref);
      const descriptor = await resolveIn(repo, ropts?.signal);
      return { name: repo.ref.toString(), descriptor, fetcher: new DockerFetcher(repo) };
    },
    async fetcher(ref: string): Promise<DockerFetcher> {
      return new DockerFetcher(await open(ref));
    },
    async pusher(ref: string): Promise<DockerPusher> {
      return new DockerPusher(await open(ref));
    },
    close: () => client.close(),
  };
}

async function resolveIn(repo: Repository, signal: AbortSignal | undefined): Promise<Descriptor> {
  const { ref } = repo;
  if (!ref.tag && !ref.digest) throw new InvalidArgumentError(`reference ${JSON.stringify(ref.toString())}: object required`);
  const paths = ref.digest ? [['manifests', ref.digest], ['blobs', ref.digest]] : [['manifests', ref.tag!]];
  const hosts = ref.digest ? repo.withCapabilities('pull') : repo.withCapabilities('pull', 'resolve');
  const accept = MANIFEST_ACCEPT.join(', ');
  let firstErr: unknown;
  // A host that answered 404 makes the result NotFound even when another host was unreachable.
  let notFound = false;
  for (const parts of paths) {
    for (const host of hosts) {
      const req = { path: repo.path(host, ...parts), headers: { accept }, scopes: repo.scopes(false), ...(signal ? { signal } : {}) };
      let res: RegistryResponse;
      try {
        res = await repo.client.request(host, { method: 'HEAD', ...req });
      } catch (err) {
        firstErr ??= err;
        continue;
      }
      if (res.status > 299) {
        const text = await res.body.text().catch(() => '');
        if (res.status === 404) notFound = true;
        else firstErr ??= statusError('HEAD', res.url, res.status, text);
        continue;
      }
      await res.body.dump();
      let digest = ref.digest ?? header(res, 'docker-content-digest');
      const length = header(res, 'content-length');
      let size = length === undefined ? -1 : Number(length);
      let mediaType = stripParams(header(res, 'content-type') ?? '');
      if (digest && !isDigest(digest)) throw new InvalidArgumentError(`${JSON.stringify(digest)} in header not a valid digest`);
      if (!digest || size < 0) {
        let got: { digest: string; size: number; mediaType: string };
        try {
          got = await getAndHash(repo, host, req);
        } catch (err) {
          firstErr ??= err;
          continue;
        }
        digest ??= got.digest;
        size = got.size;
        mediaType = got.mediaType || mediaType;
      }
      if (size > MAX_MANIFEST_SIZE) {
        firstErr ??= new NotFoundError(`rejecting ${size} byte manifest for ${ref.toString()}`);
        continue;
      }
      return { mediaType, digest, size };
    }
  }
  if (notFound || firstErr === undefined || isNotFound(firstErr)) throw new NotFoundError(`${ref.toString()}`, firstErr ? { cause: firstErr } : undefined);
  throw firstErr;
}

async function getAndHash(
  repo: Repository,
  host: Repository['hosts'][number],
  req: { path: string; headers: Record<string, string>; scopes: string[]; signal?: AbortSignal },
): Promise<{ digest: string; size: number; mediaType: string }> {
  const res = await repo.client.requestOk(host, { method: 'GET', ...req });
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_MANIFEST_SIZE) {
      res.body.destroy();
      throw new OutOfRangeError(`manifest for ${repo.ref.toString()} is larger than ${MAX_MANIFEST_SIZE} bytes`);
    }
    hash.update(chunk as Buffer);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size, mediaType: stripParams(header(res, 'content-type') ?? '') };
}
