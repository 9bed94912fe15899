import { createHash, type Hash } from 'node:crypto';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  OutOfRangeError,
  UnavailableError,
} from '@ctrd/errdefs';
import { adaptInfo, adaptStatus, parseFilters } from '../adaptors.js';
import { validateDigest } from '../digest.js';
import { validateLabels } from '../labels.js';
import type { ContentStore, ReaderAt, Writer } from '../store.js';
import type { CommitOptions, Info, Status, WriterOptions } from '../types.js';
import { applyLabelUpdate } from '../update.js';

interface Record_ {
  createdAt: Date;
  updatedAt: Date;
  labels: Record<string, string>;
}

interface Ingest {
  ref: string;
  parts: Uint8Array[];
  size: number;
  hash: Hash;
  total: number;
  expected: string;
  startedAt: Date;
  updatedAt: Date;
  lockedSince?: Date;
}

/** MemoryContent is an in-memory content store with namespaces, for tests. */
export interface MemoryContent {
  /** The view of namespace `ns`: its own blobs and ingests, over bytes shared by every namespace. */
  namespace(ns: string): ContentStore;
}

function reader(data: Uint8Array): ReaderAt {
  return {
    size: data.length,
    async readAt(buf, offset) {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError(`invalid offset ${offset}`);
      const n = Math.max(0, Math.min(buf.length, data.length - offset));
      buf.set(data.subarray(offset, offset + n));
      return n;
    },
    stream(offset = 0, length) {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError(`invalid offset ${offset}`);
      if (offset > data.length) throw new OutOfRangeError(`read past object length ${data.length} bytes`);
      const end = length === undefined || length <= 0 ? data.length : Math.min(data.length, offset + length);
      return (async function* () {
        for (let p = offset; p < end; p += 1 << 20) yield data.slice(p, Math.min(end, p + (1 << 20)));
      })();
    },
    async close() {},
  };
}

/**
 * createMemoryContent builds an in-memory store that behaves like containerd's metadata store
 * under the shared content policy: bytes are stored once, each namespace sees only what it
 * committed, and a writer expecting a blob another namespace holds starts complete.
 */
export function createMemoryContent(): MemoryContent {
  const bytes = new Map<string, Uint8Array>();
  const spaces = new Map<string, { blobs: Map<string, Record_>; ingests: Map<string, Ingest> }>();

  const space = (ns: string) => {
    let s = spaces.get(ns);
    if (s === undefined) spaces.set(ns, (s = { blobs: new Map(), ingests: new Map() }));
    return s;
  };

  const namespace = (ns: string): ContentStore => {
    const { blobs, ingests } = space(ns);
    const record = (digest: string): Record_ => {
      const r = blobs.get(validateDigest(digest));
      if (r === undefined) throw new NotFoundError(`content digest ${digest}`);
      return r;
    };
    const info = (digest: string, r: Record_): Info => ({ digest, size: bytes.get(digest)!.length, ...r, labels: { ...r.labels } });
    const status = (i: Ingest): Status => ({
      ref: i.ref,
      offset: i.size,
      total: i.total,
      expected: i.expected,
      startedAt: i.startedAt,
      updatedAt: i.updatedAt,
    });

    const writer = async (opts: WriterOptions): Promise<Writer> => {
      if (!opts.ref) throw new InvalidArgumentError('ref must not be empty');
      const expected = opts.expected ? validateDigest(opts.expected) : '';
      let ing = ingests.get(opts.ref);
      if (ing?.lockedSince) throw new UnavailableError(`ref ${ns}/${opts.ref} locked (since ${ing.lockedSince.toISOString()})`);
      if (expected && blobs.has(expected)) throw new AlreadyExistsError(`content ${expected}`);
      if (ing === undefined) {
        const now = new Date();
        ing = { ref: opts.ref, parts: [], size: 0, hash: createHash('sha256'), total: opts.total ?? 0, expected, startedAt: now, updatedAt: now };
        const shared = expected ? bytes.get(expected) : undefined;
        if (shared && (!opts.total || opts.total === shared.length)) {
          ing.parts.push(shared);
          ing.size = shared.length;
          ing.hash.update(shared);
          ing.total = shared.length;
        }
        ingests.set(opts.ref, ing);
      }
      const mine = ing;
      mine.lockedSince = new Date();
      let open = true;
      const check = (): void => {
        if (!open) throw new FailedPreconditionError(`writer for ref ${mine.ref} is closed`);
      };
      const release = (): void => {
        open = false;
        delete mine.lockedSince;
      };
      return {
        async write(data) {
          check();
          // A copy: on a Buffer, slice() is a view, and the caller may reuse or move its memory.
          mine.parts.push(new Uint8Array(data));
          mine.size += data.length;
          mine.hash.update(data);
          mine.updatedAt = new Date();
        },
        async truncate(size) {
          check();
          if (size !== 0) throw new InvalidArgumentError('only truncate(0) is supported');
          Object.assign(mine, { parts: [], size: 0, hash: createHash('sha256'), updatedAt: new Date() });
        },
        digest: () => `sha256:${mine.hash.copy().digest('hex')}`,
        status: async () => status(mine),
        async commit(size: number, want?: string, o: CommitOptions = {}) {
          check();
          release();
          const labels = o.labels ?? opts.labels;
          validateLabels(labels);
          if (size > 0 && size !== mine.size) throw new FailedPreconditionError(`unexpected commit size ${mine.size}, expected ${size}`);
          const actual = `sha256:${mine.hash.copy().digest('hex')}`;
          if (want && want !== actual) throw new FailedPreconditionError(`unexpected commit digest ${actual}, expected ${want}`);
          ingests.delete(mine.ref);
          if (blobs.has(actual)) throw new AlreadyExistsError(`content ${actual}`);
          if (!bytes.has(actual)) bytes.set(actual, new Uint8Array(Buffer.concat(mine.parts)));
          const now = new Date();
          blobs.set(actual, { createdAt: now, updatedAt: now, labels: { ...(labels ?? {}) } });
        },
        async close() {
          if (open) release();
        },
      };
    };

    return {
      async readerAt(desc) {
        record(desc.digest);
        return reader(bytes.get(desc.digest)!);
      },
      writer,
      async status(ref) {
        const i = ingests.get(ref);
        if (i === undefined) throw new NotFoundError(`ingest ref ${JSON.stringify(ref)}`);
        return status(i);
      },
      async listStatuses(filters) {
        const f = parseFilters(filters);
        return [...ingests.values()].map(status).filter((s) => f.match(adaptStatus(s)));
      },
      async abort(ref) {
        if (!ingests.delete(ref)) throw new NotFoundError(`ingest ref ${JSON.stringify(ref)}`);
      },
      async info(digest) {
        return info(digest, record(digest));
      },
      async update(i, fieldpaths) {
        const r = record(i.digest);
        r.labels = applyLabelUpdate(i.digest, r.labels, i.labels, fieldpaths);
        r.updatedAt = new Date();
        return info(i.digest, r);
      },
      async *list(filters) {
        const f = parseFilters(filters);
        for (const [d, r] of [...blobs]) {
          const i = info(d, r);
          if (f.match(adaptInfo(i))) yield i;
        }
      },
      async walk(fn, filters) {
        for await (const i of this.list(filters)) await fn(i);
      },
      async delete(digest) {
        record(digest);
        blobs.delete(digest);
      },
    };
  };

  return { namespace };
}
