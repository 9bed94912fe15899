import { createHash } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { extract as tarExtract, type Extract } from 'tar-stream';
import {
  CanceledError, FailedPreconditionError, InvalidArgumentError, isInvalidArgument, CtrdError,
} from '@ctrd/errdefs';
import { compressionOf, sniffCompression, type LayerApplyResult, type LayerStreamOptions } from '@ctrd/diff';
import { decompress } from './decompress.js';
import { LayerWriter, type TarHeader } from './layer-writer.js';
import { ensureBinaryPax } from './pax.js';
import { fault } from '@ctrd/fault';

interface Meter {
  /** absent when the bytes need not be hashed. */
  hash: ReturnType<typeof createHash> | undefined;
  bytes: number;
}

/** ApplyStreamOptions are {@link applyLayerStream}'s options. */
export interface ApplyStreamOptions extends LayerStreamOptions {
  /**
   * the source is already known to hash to `expectedDigest` (a blob the content store verified
   * on commit, or a download whose commit verifies it before the layer is used): the compressed
   * bytes are then not hashed again. Ignored without `expectedDigest`; the diffID is always
   * computed.
   */
  digestVerified?: boolean;
}

async function* metered(src: AsyncIterable<Uint8Array>, m: Meter, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  for await (const chunk of src) {
    if (signal?.aborted) throw new CanceledError('layer apply canceled');
    m.hash?.update(chunk);
    m.bytes += chunk.length;
    yield chunk;
  }
}

/** peek reads at least `n` bytes (or to the end) and returns them with a source replaying them. */
async function peek(src: AsyncIterable<Uint8Array>, n: number): Promise<[Uint8Array, AsyncIterable<Uint8Array>]> {
  const it = src[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    have += r.value.length;
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    try {
      yield* head;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }
  return [Buffer.concat(head), rest()];
}

/** feed writes the decompressed tar into the extractor, honouring its back-pressure. */
async function feed(tar: AsyncIterable<Uint8Array>, ex: Extract, m: Meter, limit: number): Promise<void> {
  try {
    for await (const chunk of tar) {
      m.hash?.update(chunk);
      m.bytes += chunk.length;
      if (m.bytes > limit) throw new InvalidArgumentError(`layer expands past the limit of ${limit} bytes`);
      if (ex.destroyed) return;
      if (!ex.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            ex.off('drain', done);
            ex.off('close', done);
            resolve();
          };
          ex.on('drain', done);
          ex.on('close', done);
        });
      }
    }
    (ex as unknown as { end(): void }).end();
  } catch (err) {
    ex.destroy(err as Error);
  }
}

function asLayerError(err: unknown): unknown {
  if (err instanceof CtrdError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return new CanceledError('layer apply canceled', { cause: err });
  // tar-stream's own parse errors ("Invalid tar header", "Unexpected end of data", …)
  if (e && e.code === undefined && typeof e.message === 'string') {
    return new InvalidArgumentError(`invalid layer: ${e.message}`, { cause: err });
  }
  return err;
}

/**
 * applyLayerStream unpacks a layer stream onto the directory `target` in one pass: it hashes
 * the bytes read (the blob digest), decompresses them by their magic (gzip, zstd or plain
 * tar), hashes the tar (the diffID) and writes each entry with the rules in `@ctrd/diff`'s
 * package doc. Memory stays bounded whatever the layer: entries are streamed to disk and PAX
 * headers are capped.
 *
 * Errors: an unknown media type is NotImplemented; a malformed or malicious layer, a decoder
 * error or exceeding `maxUncompressedSize` is InvalidArgument; a digest other than
 * `expectedDigest` is FailedPrecondition (unless `digestVerified` says the source was verified
 * already); an abort is Canceled. On any error the target holds
 * a partial layer and should be discarded (it is a fresh active snapshot); nothing outside it
 * was touched.
 */
export async function applyLayerStream(
  stream: AsyncIterable<Uint8Array> | Readable,
  target: string,
  opts: ApplyStreamOptions,
): Promise<LayerApplyResult> {
  compressionOf(opts.mediaType);
  ensureBinaryPax();
  const root = realpathSync(target);
  if (!statSync(root).isDirectory()) throw new InvalidArgumentError(`apply target ${target} is not a directory`);
  const { signal } = opts;
  if (signal?.aborted) throw new CanceledError('layer apply canceled');
  const trusted = opts.digestVerified === true && opts.expectedDigest !== undefined;
  const compressed: Meter = { hash: trusted ? undefined : createHash('sha256'), bytes: 0 };
  const tar: Meter = { hash: createHash('sha256'), bytes: 0 };
  const writer = new LayerWriter(root, { overlay: opts.overlay, parents: opts.parents });
  const ex = tarExtract();
  const onAbort = (): void => void ex.destroy(new CanceledError('layer apply canceled'));
  signal?.addEventListener('abort', onAbort, { once: true });
  let feeding: Promise<void> | undefined;
  try {
    const [head, source] = await peek(metered(stream as AsyncIterable<Uint8Array>, compressed, signal), 4);
    const decompressed = decompress(source, head.length === 0 ? 'uncompressed' : sniffCompression(head));
    feeding = feed(decompressed, ex, tar, opts.maxUncompressedSize ?? Infinity);
    for await (const entry of ex) {
      if (signal?.aborted) throw new CanceledError('layer apply canceled');
      try {
        await writer.write(entry.header as TarHeader, entry as AsyncIterable<Uint8Array>);
      } catch (err) {
        throw isInvalidArgument(err) ? err : wrapFs(err, entry.header.name);
      }
      for await (const _ of entry); // drain what write did not read
      fault('differ.apply');
    }
    await feeding;
    writer.finish();
  } catch (err) {
    ex.destroy(err as Error);
    await feeding?.catch(() => {});
    throw asLayerError(err);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const compressedDigest = compressed.hash ? `sha256:${compressed.hash.digest('hex')}` : opts.expectedDigest!;
  if (opts.expectedDigest !== undefined && opts.expectedDigest !== compressedDigest) {
    throw new FailedPreconditionError(`digest mismatch: expected ${opts.expectedDigest}, got ${compressedDigest}`);
  }
  return {
    diffID: `sha256:${tar.hash!.digest('hex')}`,
    compressedDigest,
    size: compressed.bytes,
    uncompressedSize: tar.bytes,
  };
}

function wrapFs(err: unknown, name: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOTDIR' || e?.code === 'ELOOP' || e?.code === 'EEXIST' || e?.code === 'ENAMETOOLONG') {
    return new InvalidArgumentError(`cannot apply entry ${JSON.stringify(name)}: ${e.code}`, { cause: err });
  }
  return err;
}
