import { ContentClient, type Info as WireInfo, type Status as WireStatus } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { fromTimestamp } from '@ctrd/api';
import type { BlobDescriptor, ContentStore, Info, ReaderAt, Status, Writer, WriterOptions } from '@ctrd/content';
import { InvalidArgumentError } from '@ctrd/errdefs';
import type { Connection } from './connection.js';
import { RemoteWriter } from './content-writer.js';

/** ContentScope selects the namespace and lease a remote content store works in. */
export interface ContentScope {
  /** the connection's namespace unless given. */
  namespace?: string;
  /** the connection's lease unless given. */
  lease?: string;
}

const date = (t: Parameters<typeof fromTimestamp>[0]): Date => fromTimestamp(t) ?? new Date(0);

function infoIn(i: WireInfo | undefined): Info {
  return { digest: i?.digest ?? '', size: i?.size ?? 0, createdAt: date(i?.createdAt), updatedAt: date(i?.updatedAt), labels: { ...i?.labels } };
}

function statusIn(s: WireStatus | undefined): Status {
  return {
    ref: s?.ref ?? '',
    offset: s?.offset ?? 0,
    total: s?.total ?? 0,
    expected: s?.expected ?? '',
    startedAt: date(s?.startedAt),
    updatedAt: date(s?.updatedAt),
  };
}

/**
 * RemoteContentStore is the ContentStore contract over the daemon's Content service, in one
 * namespace (and lease). Writers speak the Write stream protocol; readers fetch ranges with Read.
 */
export class RemoteContentStore implements ContentStore {
  readonly #conn: Connection;
  readonly #scope: ContentScope;
  readonly #client: ContentClient;

  constructor(conn: Connection, scope: ContentScope = {}) {
    this.#conn = conn;
    this.#scope = { namespace: scope.namespace ?? conn.namespace, lease: scope.lease ?? conn.lease };
    this.#client = conn.client(ContentClient);
  }

  /** withScope returns the same store in another namespace or lease. */
  withScope(scope: ContentScope): RemoteContentStore {
    return new RemoteContentStore(this.#conn, { ...this.#scope, ...scope });
  }

  async info(digest: string): Promise<Info> {
    const c = this.#client;
    return infoIn((await this.#conn.unary(c, c.info, { digest }, this.#scope)).info);
  }

  async update(info: Pick<Info, 'digest'> & Partial<Pick<Info, 'labels'>>, fieldpaths?: readonly string[]): Promise<Info> {
    const c = this.#client;
    const wire: WireInfo = { digest: info.digest, size: 0, labels: { ...info.labels } };
    return infoIn((await this.#conn.unary(c, c.update, { info: wire, updateMask: [...(fieldpaths ?? [])] }, this.#scope)).info);
  }

  async walk(fn: (info: Info) => void | Promise<void>, filters?: readonly string[]): Promise<void> {
    for await (const info of this.list(filters)) await fn(info);
  }

  async *list(filters?: readonly string[]): AsyncIterable<Info> {
    const call = this.#client.list({ filters: [...(filters ?? [])] }, this.#conn.metadata(this.#scope));
    for await (const batch of this.#conn.stream(call)) for (const i of batch.info) yield infoIn(i);
  }

  async delete(digest: string): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.delete, { digest }, this.#scope);
  }

  async readerAt(desc: BlobDescriptor): Promise<ReaderAt> {
    const { size } = await this.info(desc.digest);
    return new RemoteReader(this, desc.digest, size);
  }

  /** readRange streams `[offset, offset+size)` of a blob (to the end when size ≤ 0) as Read returns it. */
  async *readRange(digest: string, offset: number, size: number): AsyncIterable<{ offset: number; data: Uint8Array }> {
    const call = this.#client.read({ digest, offset, size }, this.#conn.metadata(this.#scope));
    yield* this.#conn.stream(call);
  }

  async status(ref: string): Promise<Status> {
    const c = this.#client;
    return statusIn((await this.#conn.unary(c, c.status, { ref }, this.#scope)).status);
  }

  async listStatuses(filters?: readonly string[]): Promise<Status[]> {
    const c = this.#client;
    return (await this.#conn.unary(c, c.listStatuses, { filters: [...(filters ?? [])] }, this.#scope)).statuses.map(statusIn);
  }

  async abort(ref: string): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.abort, { ref }, this.#scope);
  }

  async writer(opts: WriterOptions): Promise<Writer> {
    if (!opts.ref) throw new InvalidArgumentError('ref must not be empty');
    return RemoteWriter.open(this.#client.write(this.#conn.metadata(this.#scope)), opts);
  }
}

/** RemoteReader reads one blob through Read calls; it holds nothing open between calls. */
class RemoteReader implements ReaderAt {
  constructor(
    private readonly store: RemoteContentStore,
    private readonly digest: string,
    readonly size: number,
  ) {}

  async readAt(buf: Uint8Array, offset: number): Promise<number> {
    if (offset < 0) throw new InvalidArgumentError(`invalid read offset ${offset}`);
    if (offset >= this.size || buf.length === 0) return 0;
    const want = Math.min(buf.length, this.size - offset);
    let n = 0;
    for await (const chunk of this.store.readRange(this.digest, offset, want)) {
      const at = chunk.offset - offset;
      const len = Math.min(chunk.data.length, want - at);
      if (len <= 0) continue;
      buf.set(chunk.data.subarray(0, len), at);
      n = Math.max(n, at + len);
    }
    return n;
  }

  async *stream(offset = 0, length?: number): AsyncIterable<Uint8Array> {
    if (offset < 0) throw new InvalidArgumentError(`invalid read offset ${offset}`);
    for await (const chunk of this.store.readRange(this.digest, offset, length ?? 0)) yield chunk.data;
  }

  async close(): Promise<void> {}
}
