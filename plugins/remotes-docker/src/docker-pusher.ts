import { Readable } from 'node:stream';
import { AlreadyExistsError, InvalidArgumentError, UnknownError } from '@ctrd/errdefs';
import { isManifestOrIndexType, type Descriptor, type PushOptions, type PushSource, type Pusher, type RegistryHost, type RequestOptions } from '@ctrd/remotes';
import { header, type BodySource } from './registry-client.js';
import { statusError } from './errors.js';
import type { Repository } from './repository.js';

/**
 * DockerPusher uploads to one repository on the first host with the push capability. Blobs go
 * through a monolithic upload (POST, then one PUT of the whole blob); manifests are PUT under the
 * reference's tag, or under their digest. Content the registry has is not sent again.
 */
export class DockerPusher implements Pusher {
  readonly #repo: Repository;

  constructor(repo: Repository) {
    this.#repo = repo;
  }

  #manifestObject(desc: Descriptor, byDigest: boolean | undefined): string {
    const ref = this.#repo.ref;
    if (byDigest || !ref.tag || (ref.digest && ref.digest !== desc.digest)) return desc.digest;
    return ref.tag;
  }

  #host(): RegistryHost {
    return this.#repo.withCapabilities('push')[0]!;
  }

  async exists(desc: Descriptor, opts: RequestOptions & { byDigest?: boolean } = {}): Promise<boolean> {
    const repo = this.#repo;
    const host = this.#host();
    const manifest = isManifestOrIndexType(desc.mediaType);
    const object = manifest ? this.#manifestObject(desc, opts.byDigest) : desc.digest;
    const res = await repo.client.request(host, {
      method: 'HEAD',
      path: repo.path(host, manifest ? 'manifests' : 'blobs', object),
      headers: { accept: `${desc.mediaType}, */*` },
      scopes: repo.scopes(true),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    await res.body.dump();
    if (res.status === 404) return false;
    if (res.status !== 200) throw statusError('HEAD', res.url, res.status, '');
    return object === desc.digest || header(res, 'docker-content-digest') === desc.digest;
  }

  async push(desc: Descriptor, source: PushSource, opts: PushOptions = {}): Promise<void> {
    if (await this.exists(desc, opts)) throw new AlreadyExistsError(`content ${desc.digest} on remote`);
    const repo = this.#repo;
    const host = this.#host();
    const signal = opts.signal ? { signal: opts.signal } : {};
    if (isManifestOrIndexType(desc.mediaType)) {
      const bytes = await collect(source);
      if (bytes.length !== desc.size) throw new InvalidArgumentError(`manifest ${desc.digest} is ${bytes.length} bytes, descriptor says ${desc.size}`);
      const res = await repo.client.requestOk(host, {
        method: 'PUT',
        path: repo.path(host, 'manifests', this.#manifestObject(desc, opts.byDigest)),
        headers: { 'content-type': desc.mediaType },
        body: () => bytes,
        scopes: repo.scopes(true),
        ...signal,
      }, [200, 201, 204]);
      await res.body.dump();
      return;
    }
    const start = await repo.client.request(host, {
      method: 'POST',
      path: repo.path(host, 'blobs', 'uploads/'),
      headers: { 'content-length': '0' },
      scopes: repo.scopes(true),
      ...signal,
    });
    const startText = await start.body.text().catch(() => '');
    if (start.status === 201) throw new AlreadyExistsError(`content ${desc.digest} on remote`);
    if (start.status !== 202 && start.status !== 200 && start.status !== 204) throw statusError('POST', start.url, start.status, startText);
    const location = header(start, 'location');
    if (!location) throw new UnknownError(`upload of ${desc.digest} to ${start.url}: no Location in response`);
    const target = new URL(location, start.url);
    target.searchParams.append('digest', desc.digest);
    const { body, replayable } = bodySource(source);
    const res = await repo.client.requestOk(host, {
      method: 'PUT',
      url: target.toString(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      body,
      replayable,
      scopes: repo.scopes(true),
      authorize: target.origin === new URL(start.url).origin,
      ...signal,
    }, [201, 200, 204]);
    await res.body.dump();
  }
}

async function collect(source: PushSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  const it = typeof source === 'function' ? await source() : source;
  const chunks: Buffer[] = [];
  for await (const c of it) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

function bodySource(source: PushSource): { body: BodySource; replayable: boolean } {
  if (source instanceof Uint8Array) return { body: () => source, replayable: true };
  if (typeof source === 'function') {
    return {
      body: () =>
        Readable.from(
          (async function* () {
            yield* await source();
          })(),
          { objectMode: false },
        ),
      replayable: true,
    };
  }
  let used = false;
  return {
    body: () => {
      if (used) throw new UnknownError('push source stream already consumed');
      used = true;
      return source instanceof Readable ? source : Readable.from(source, { objectMode: false });
    },
    replayable: false,
  };
}
