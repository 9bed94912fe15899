import type { ContentStore, Writer } from '@ctrd/content';
import { WriteAction, WriteContentRequest, type WriteContentResponse } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { AlreadyExistsError, DataLossError, InvalidArgumentError, isNotFound, OutOfRangeError } from '@ctrd/errdefs';
import { ts } from './convert.js';

/** DATA_TAG is the key of `WriteContentRequest.data` (field 6, length-delimited). */
const DATA_TAG = (6 << 3) | 2;

/** varintAt reads the varint at `pos`, returning its value and end, or undefined when malformed. */
function varintAt(buf: Uint8Array, pos: number): [number, number] | undefined {
  let value = 0;
  for (let shift = 1; pos < buf.length && shift <= 2 ** 63; shift *= 0x80) {
    const b = buf[pos++]!;
    value += (b & 0x7f) * shift;
    if (b < 0x80) return [value, pos];
  }
  return undefined;
}

/** fieldEnd is where the field at `pos` (its key already read) ends, or undefined when unsupported. */
function fieldEnd(buf: Uint8Array, wireType: number, pos: number): number | undefined {
  switch (wireType) {
    case 0:
      return varintAt(buf, pos)?.[1];
    case 1:
      return pos + 8;
    case 2: {
      const len = varintAt(buf, pos);
      return len === undefined ? undefined : len[1] + len[0];
    }
    case 5:
      return pos + 4;
    default:
      return undefined;
  }
}

/**
 * decodeWriteRequest decodes a `WriteContentRequest` leaving `data` a view of the received
 * buffer: the generated decoder copies the bytes, which doubled the memory a 1 MiB write
 * allocates (and the garbage collections that follow). The other fields are decoded by the
 * generated decoder from a copy of the message without the data; a message it cannot split
 * (malformed, or with groups) goes to the generated decoder whole, which also reports errors.
 * Sound because grpc-js hands each message in a buffer of its own.
 */
export function decodeWriteRequest(buf: Buffer): WriteContentRequest {
  const rest: Buffer[] = [];
  let data: Buffer | undefined;
  let kept = 0;
  for (let pos = 0; pos < buf.length; ) {
    const key = varintAt(buf, pos);
    if (key === undefined) return WriteContentRequest.decode(buf);
    const [tag, start] = key;
    const end = fieldEnd(buf, tag & 7, start);
    if (end === undefined || end > buf.length) return WriteContentRequest.decode(buf);
    if (tag === DATA_TAG) {
      // As the generated decoder: the last occurrence of a scalar field wins.
      if (kept < pos) rest.push(buf.subarray(kept, pos));
      const [len, from] = varintAt(buf, start)!;
      data = buf.subarray(from, from + len);
      kept = end;
    }
    pos = end;
  }
  if (data === undefined) return WriteContentRequest.decode(buf);
  if (kept < buf.length) rest.push(buf.subarray(kept));
  const msg = WriteContentRequest.decode(Buffer.concat(rest));
  msg.data = data;
  return msg;
}

async function exists(store: ContentStore, digest: string): Promise<boolean> {
  try {
    await store.info(digest);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** nextOrAbort reads the next request, giving up when the client goes away so the ref's lock is released. */
function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T>> {
  if (signal.aborted) return Promise.resolve({ done: true, value: undefined });
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve({ done: true, value: undefined });
    signal.addEventListener('abort', onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * writeSession serves one `Content.Write` stream, following containerd's protocol. The first
 * message names the ref (else InvalidArgument) and opens, or resumes, the ingest under the ref's
 * lock, which is held until the stream ends. Then each message, whatever its action, is answered
 * with the ingest's offset:
 * - a message carrying an `expected` digest that is already stored aborts the ingest and ends the
 *   stream with AlreadyExists (clients treat that as success);
 * - STAT reports the ingest (offset, total, times and digest so far);
 * - WRITE and COMMIT append their data at `offset`, which must equal the current offset when it
 *   is non-zero (else OutOfRange); offset 0 on a non-empty ingest starts it again;
 * - COMMIT then verifies and publishes the blob (FailedPrecondition on a size or digest mismatch,
 *   leaving the ingest for a retry) and ends the stream.
 * The writer is released before the stream's status is sent, so a client that sees the stream end
 * can reopen the ref at once.
 */
export async function* writeSession(
  store: ContentStore,
  reqs: AsyncIterable<WriteContentRequest>,
  signal: AbortSignal,
): AsyncIterable<WriteContentResponse> {
  const it = reqs[Symbol.asyncIterator]();
  const first = await nextOrAbort(it, signal);
  if (first.done) return;
  let req = first.value;
  const ref = req.ref;
  if (!ref) throw new InvalidArgumentError('first message must have a reference');
  let total = req.total;
  let expected = req.expected;
  const w: Writer = await store.writer({ ref, total: total || undefined, expected: expected || undefined });
  let released = false;
  try {
    for (;;) {
      const st = await w.status();
      const msg: WriteContentResponse = { action: req.action, offset: st.offset, total: 0, digest: '' };
      if (req.expected) {
        expected = req.expected;
        if (await exists(store, req.expected)) {
          released = true;
          await w.close();
          await store.abort(ref).catch(() => undefined);
          throw new AlreadyExistsError(`blob with expected digest ${req.expected} exists`);
        }
      }
      if (req.total > 0) total = req.total;

      if (req.action === WriteAction.STAT) {
        msg.digest = w.digest();
        msg.startedAt = ts(st.startedAt);
        msg.updatedAt = ts(st.updatedAt);
        msg.total = total;
      } else if (req.action === WriteAction.WRITE || req.action === WriteAction.COMMIT) {
        if (req.offset > 0 && req.offset !== st.offset) {
          throw new OutOfRangeError(`write @${req.offset} must occur at current offset ${st.offset}`);
        }
        if (req.offset === 0 && st.offset > 0) {
          await w.truncate(0);
          msg.offset = 0;
        }
        if (req.data.length > 0) {
          const before = msg.offset;
          await w.write(req.data);
          const after = (await w.status()).offset;
          if (after - before !== req.data.length) throw new DataLossError(`wrote ${after - before} of ${req.data.length} bytes`);
          msg.offset = after;
        }
        if (req.action === WriteAction.COMMIT) {
          const labels = Object.keys(req.labels).length > 0 ? { ...req.labels } : undefined;
          released = true;
          await w.commit(total, expected || undefined, labels ? { labels } : undefined);
        }
        msg.digest = w.digest();
      } else {
        throw new InvalidArgumentError(`unknown write action ${String(req.action)}`);
      }
      yield msg;
      if (req.action === WriteAction.COMMIT) return;
      const next = await nextOrAbort(it, signal);
      if (next.done) return;
      req = next.value;
    }
  } finally {
    if (!released) await w.close();
    else await w.close().catch(() => undefined);
  }
}
