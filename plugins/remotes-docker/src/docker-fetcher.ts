import { Readable } from 'node:stream';
import { DataLossError, NotFoundError, isNotFound } from '@ctrd/errdefs';
import { isManifestOrIndexType, type Descriptor, type FetchOptions, type Fetcher, type RegistryHost } from '@ctrd/remotes';
import { header, type RegistryResponse } from './registry-client.js';
import { statusError } from './errors.js';
import type { Repository } from './repository.js';

/** RESUME_ATTEMPTS bounds how often a broken download is resumed from where it stopped. */
const RESUME_ATTEMPTS = 3;

/**
 * DockerFetcher reads manifests and blobs of one repository, trying a descriptor's own `urls`
 * first, then each host with the pull capability. A download that breaks part-way is resumed
 * with a Range request.
 */
export class DockerFetcher implements Fetcher {
  readonly #repo: Repository;

  constructor(repo: Repository) {
    this.#repo = repo;
  }

  async fetch(desc: Descriptor, opts: FetchOptions = {}): Promise<Readable> {
    const start = opts.offset ?? 0;
    const first = await this.#open(desc, start, opts.signal);
    const open = (offset: number): Promise<Readable> => this.#open(desc, offset, opts.signal);
    async function* resumable(): AsyncGenerator<Uint8Array> {
      let body = first;
      let offset = start;
      let resumes = 0;
      for (;;) {
        try {
          for await (const chunk of body) {
            offset += (chunk as Uint8Array).length;
            yield chunk as Uint8Array;
          }
          return;
        } catch (err) {
          body.destroy();
          const more = desc.size > 0 && offset < desc.size;
          if (opts.signal?.aborted || !more || resumes >= RESUME_ATTEMPTS) throw err;
          resumes++;
          body = await open(offset);
        }
      }
    }
    const gen = resumable();
    const out = Readable.from(gen, { objectMode: false });
    out.on('close', () => void gen.return(undefined).catch(() => undefined));
    return out;
  }

  async #open(desc: Descriptor, offset: number, signal: AbortSignal | undefined): Promise<Readable> {
    const repo = this.#repo;
    const headers: Record<string, string> = { accept: `${desc.mediaType}, */*` };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let firstErr: unknown;
    let notFound = false;
    const attempts: Array<{ host: RegistryHost; url?: string; path?: string; authorize: boolean }> = [];
    for (const u of desc.urls ?? []) {
      if (/^https?:\/\//.test(u)) attempts.push({ host: { scheme: u.startsWith('https') ? 'https' : 'http', host: new URL(u).host, path: '', capabilities: ['pull'] }, url: u, authorize: false });
    }
    const kind = isManifestOrIndexType(desc.mediaType) ? 'manifests' : 'blobs';
    for (const host of repo.withCapabilities('pull')) attempts.push({ host, path: repo.path(host, kind, desc.digest), authorize: true });
    for (const a of attempts) {
      let res: RegistryResponse;
      try {
        res = await repo.client.request(a.host, {
          method: 'GET',
          ...(a.url ? { url: a.url } : { path: a.path! }),
          headers,
          scopes: repo.scopes(false),
          authorize: a.authorize,
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        firstErr ??= err;
        continue;
      }
      if (res.status > 299) {
        const text = await res.body.text().catch(() => '');
        if (res.status === 404) notFound = true;
        firstErr ??= statusError('GET', res.url, res.status, text);
        continue;
      }
      return skipTo(res, offset);
    }
    if (notFound || firstErr === undefined || isNotFound(firstErr)) {
      throw new NotFoundError(`could not fetch content descriptor ${desc.digest} (${desc.mediaType}) from remote`, { cause: firstErr });
    }
    throw firstErr;
  }
}

/** skipTo checks a ranged answer, or drops the head of a full one, so the stream starts at `offset`. */
async function skipTo(res: RegistryResponse, offset: number): Promise<Readable> {
  if (offset === 0) return res.body;
  const range = header(res, 'content-range');
  if (res.status === 206 && range) {
    if (!range.startsWith(`bytes ${offset}-`)) {
      res.body.destroy();
      throw new DataLossError(`unhandled content range in response: ${range}`);
    }
    return res.body;
  }
  let skipped = 0;
  const body = res.body;
  async function* rest(): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      const c = chunk as Buffer;
      if (skipped >= offset) {
        yield c;
        continue;
      }
      const need = offset - skipped;
      skipped += Math.min(need, c.length);
      if (c.length > need) yield c.subarray(need);
    }
    if (skipped < offset) throw new DataLossError(`unable to discard to offset ${offset}`);
  }
  return Readable.from(rest(), { objectMode: false });
}
