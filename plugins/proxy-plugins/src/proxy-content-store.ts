import { RemoteContentStore, type Connection } from '@ctrd/client';
import type { BlobDescriptor, ContentStore, Info, ReaderAt, Status, Writer, WriterOptions } from '@ctrd/content';
import { forwardedNamespace } from './forwarded-namespace.js';

/**
 * ProxyContentStore is the ContentStore contract over an out-of-process Content service.
 * Ingest calls forward the namespace their ref was made for (see {@link forwardedNamespace});
 * calls by digest forward none, since nothing in them says which request they serve.
 */
export class ProxyContentStore implements ContentStore {
  readonly #bare: RemoteContentStore;
  readonly #byNamespace = new Map<string, RemoteContentStore>();

  constructor(conn: Connection) {
    this.#bare = new RemoteContentStore(conn, { namespace: '' });
  }

  #remote(ref?: string): RemoteContentStore {
    const ns = forwardedNamespace(ref);
    if (ns === undefined) return this.#bare;
    let r = this.#byNamespace.get(ns);
    if (!r) {
      r = this.#bare.withScope({ namespace: ns });
      this.#byNamespace.set(ns, r);
    }
    return r;
  }

  info(digest: string): Promise<Info> {
    return this.#bare.info(digest);
  }

  update(info: Pick<Info, 'digest'> & Partial<Pick<Info, 'labels'>>, fieldpaths?: readonly string[]): Promise<Info> {
    return this.#bare.update(info, fieldpaths);
  }

  walk(fn: (info: Info) => void | Promise<void>, filters?: readonly string[]): Promise<void> {
    return this.#bare.walk(fn, filters);
  }

  list(filters?: readonly string[]): AsyncIterable<Info> {
    return this.#bare.list(filters);
  }

  delete(digest: string): Promise<void> {
    return this.#bare.delete(digest);
  }

  readerAt(desc: BlobDescriptor): Promise<ReaderAt> {
    return this.#bare.readerAt(desc);
  }

  status(ref: string): Promise<Status> {
    return this.#remote(ref).status(ref);
  }

  listStatuses(filters?: readonly string[]): Promise<Status[]> {
    return this.#bare.listStatuses(filters);
  }

  abort(ref: string): Promise<void> {
    return this.#remote(ref).abort(ref);
  }

  writer(opts: WriterOptions): Promise<Writer> {
    return this.#remote(opts.ref).writer(opts);
  }
}
