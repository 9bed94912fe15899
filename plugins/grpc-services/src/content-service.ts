import { TypeUrls } from '@ctrd/api';
import { ContentDelete } from '@ctrd/api/gen/containerd/events/content.js';
import { ContentService, type Info as WireInfo, type Status as WireStatus } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { validateDigest, type ContentStore, type Info, type Status } from '@ctrd/content';
import { InvalidArgumentError, OutOfRangeError } from '@ctrd/errdefs';
import { TOPICS } from '@ctrd/events';
import { bindService, type BoundService, type CallContext } from '@ctrd/grpc';
import { mask, publishEvent, ts } from './convert.js';
import { decodeWriteRequest, writeSession } from './content-write.js';
import { encodeReadResponse } from './read-encoding.js';
import type { ServiceDeps } from './deps.js';

/** READ_CHUNK is the size of each Read response, as containerd sends them. */
export const READ_CHUNK = 1 << 20;
/** LIST_BATCH is how many Infos each List response carries. */
export const LIST_BATCH = 100;

/** infoOut converts an Info to the wire. */
export function infoOut(i: Info): WireInfo {
  return { digest: i.digest, size: i.size, createdAt: ts(i.createdAt), updatedAt: ts(i.updatedAt), labels: { ...i.labels } };
}

/** statusOut converts an ingest Status to the wire. */
export function statusOut(s: Status): WireStatus {
  return { ref: s.ref, offset: s.offset, total: s.total, expected: s.expected, startedAt: ts(s.startedAt), updatedAt: ts(s.updatedAt) };
}

/**
 * contentService binds `containerd.services.content.v1.Content` over the namespaced content store
 * of the request's namespace, under the request's lease (`containerd-lease`) when it names one.
 * Read streams 1 MiB chunks, List batches of 100, Write follows {@link writeSession}; Delete
 * publishes `/content/delete`.
 */
export function contentService({ metadata, publisher }: Pick<ServiceDeps, 'metadata' | 'publisher'>): BoundService {
  const storeOf = (ctx: CallContext): ContentStore => metadata.content(ctx.namespace, { lease: ctx.lease });
  // Read responses are encoded with one copy of the data (see encodeReadResponse), Write
  // requests decoded with none (see decodeWriteRequest).
  const definition = {
    ...ContentService,
    read: { ...ContentService.read, responseSerialize: encodeReadResponse },
    write: { ...ContentService.write, requestDeserialize: decodeWriteRequest },
  };
  return bindService(definition, {
    async info(req, ctx) {
      // As containerd, a malformed digest is refused before the namespace is looked at.
      validateDigest(req.digest);
      return { info: infoOut(await storeOf(ctx).info(req.digest)) };
    },
    async update(req, ctx) {
      if (!req.info) throw new InvalidArgumentError('info must be set');
      const info = await storeOf(ctx).update({ digest: req.info.digest, labels: req.info.labels }, mask(req.updateMask));
      return { info: infoOut(info) };
    },
    async *list(req, ctx) {
      let batch: WireInfo[] = [];
      for await (const info of storeOf(ctx).list(req.filters)) {
        batch.push(infoOut(info));
        if (batch.length >= LIST_BATCH) {
          yield { info: batch };
          batch = [];
        }
      }
      if (batch.length > 0) yield { info: batch };
    },
    async delete(req, ctx) {
      validateDigest(req.digest);
      const ns = ctx.namespace;
      await storeOf(ctx).delete(req.digest);
      await publishEvent(publisher, ns, TOPICS.contentDelete, TypeUrls.ContentDelete, ContentDelete, { digest: req.digest });
      return {};
    },
    async *read(req, ctx) {
      validateDigest(req.digest);
      const ra = await storeOf(ctx).readerAt({ digest: req.digest });
      try {
        // As containerd: a negative offset reads from the start, a size of 0 or less (or past the end) to the end.
        const start = Math.max(req.offset, 0);
        if (start > ra.size) throw new OutOfRangeError(`read past object length ${ra.size} bytes`);
        const end = req.size > 0 && start + req.size < ra.size ? start + req.size : ra.size;
        for (let off = start; off < end && !ctx.cancelled; ) {
          const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, end - off));
          const n = await ra.readAt(buf, off);
          if (n === 0) break;
          yield { offset: off, data: n === buf.length ? buf : buf.subarray(0, n) };
          off += n;
        }
      } finally {
        await ra.close();
      }
    },
    async status(req, ctx) {
      return { status: statusOut(await storeOf(ctx).status(req.ref)) };
    },
    async listStatuses(req, ctx) {
      return { statuses: (await storeOf(ctx).listStatuses(req.filters)).map(statusOut) };
    },
    write(reqs, ctx) {
      return writeSession(storeOf(ctx), reqs, ctx.signal);
    },
    async abort(req, ctx) {
      await storeOf(ctx).abort(req.ref);
      return {};
    },
  });
}
