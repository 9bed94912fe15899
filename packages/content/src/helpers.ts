import { isAlreadyExists, isUnavailable } from '@ctrd/errdefs';
import type { Ingester, Provider, Writer } from './store.js';
import type { BlobDescriptor, CommitOptions, WriterOptions } from './types.js';

/** RetryOptions bound the wait of openWriter. */
export interface RetryOptions {
  /** stops the retries; the last Unavailable error is then thrown. */
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * openWriter opens a writer, retrying with a growing random back-off (up to about 2 s between
 * tries) while the ref is locked by another writer, until it is free or `signal` aborts. Any
 * other error, AlreadyExists included, is thrown at once.
 */
export async function openWriter(ingester: Ingester, opts: WriterOptions, retry: RetryOptions = {}): Promise<Writer> {
  let bound = 16;
  for (;;) {
    try {
      return await ingester.writer(opts);
    } catch (err) {
      if (!isUnavailable(err) || retry.signal?.aborted) throw err;
      await sleep(Math.floor(Math.random() * bound), retry.signal);
      if (retry.signal?.aborted) throw err;
      if (bound < 2048) bound *= 2;
    }
  }
}

async function* skipBytes(source: AsyncIterable<Uint8Array>, skip: number): AsyncIterable<Uint8Array> {
  let left = skip;
  for await (const chunk of source) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/**
 * writeBlob stores `data` as the blob `desc` under ingest `ref`: it resumes an earlier partial
 * ingest, commits with the expected size and digest, and resolves quietly when the blob is
 * already present (AlreadyExists). A size or digest mismatch rejects with FailedPrecondition.
 */
export async function writeBlob(
  ingester: Ingester,
  ref: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  desc: BlobDescriptor,
  opts: CommitOptions & RetryOptions = {},
): Promise<void> {
  let w: Writer;
  try {
    w = await openWriter(ingester, { ref, total: desc.size, expected: desc.digest }, opts);
  } catch (err) {
    if (isAlreadyExists(err)) return;
    throw err;
  }
  try {
    const { offset } = await w.status();
    if (data instanceof Uint8Array) {
      if (offset > data.length) await w.truncate(0);
      const from = offset > data.length ? 0 : offset;
      if (from < data.length) await w.write(data.subarray(from));
    } else {
      for await (const chunk of skipBytes(data, offset)) await w.write(chunk);
    }
    await w.commit(desc.size ?? 0, desc.digest, { labels: opts.labels });
  } catch (err) {
    if (isAlreadyExists(err)) return;
    throw err;
  } finally {
    await w.close();
  }
}

/** readBlob reads the whole blob `desc` into memory. Meant for small blobs (manifests, configs). */
export async function readBlob(provider: Provider, desc: BlobDescriptor): Promise<Uint8Array> {
  const ra = await provider.readerAt(desc);
  try {
    const out = new Uint8Array(ra.size);
    let n = 0;
    while (n < out.length) {
      const got = await ra.readAt(out.subarray(n), n);
      if (got === 0) break;
      n += got;
    }
    return n === out.length ? out : out.subarray(0, n);
  } finally {
    await ra.close();
  }
}
