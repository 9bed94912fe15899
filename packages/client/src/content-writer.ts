import type { ClientDuplexStream } from '@grpc/grpc-js';
import { WriteAction, type WriteContentRequest, type WriteContentResponse } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { fromTimestamp } from '@ctrd/api';
import type { CommitOptions, Status, Writer, WriterOptions } from '@ctrd/content';
import { FailedPreconditionError, NotImplementedError, UnavailableError } from '@ctrd/errdefs';
import { fromServiceError } from '@ctrd/grpc';

/** WRITE_CHUNK bounds the data of one WRITE message, well under the 16 MiB message limit. */
const WRITE_CHUNK = 4 << 20;

type Call = ClientDuplexStream<WriteContentRequest, WriteContentResponse>;

function request(fields: Partial<WriteContentRequest>): WriteContentRequest {
  return { action: WriteAction.STAT, ref: '', total: 0, expected: '', offset: 0, data: Buffer.alloc(0), labels: {}, ...fields };
}

/**
 * RemoteWriter is a content Writer driving one `Content.Write` stream: each call sends one message
 * and waits for its answer, so the ingest's offset and digest always come from the server. The
 * stream, and with it the server's lock on the ref, lasts until `commit` or `close`.
 */
export class RemoteWriter implements Writer {
  readonly #call: Call;
  readonly #responses: AsyncIterator<WriteContentResponse>;
  readonly #opts: WriterOptions;
  #offset = 0;
  #digest = '';
  #released = false;
  #ended?: Promise<void>;

  private constructor(call: Call, opts: WriterOptions) {
    this.#call = call;
    this.#responses = (call as AsyncIterable<WriteContentResponse>)[Symbol.asyncIterator]();
    this.#opts = opts;
  }

  /** open starts the stream with STAT, which opens or resumes the ingest; errors are errdefs classes. */
  static async open(call: Call, opts: WriterOptions): Promise<RemoteWriter> {
    const w = new RemoteWriter(call, opts);
    try {
      await w.#send(request({ action: WriteAction.STAT, ref: opts.ref, total: opts.total ?? 0, expected: opts.expected ?? '' }));
    } catch (err) {
      w.#released = true;
      await w.#end();
      throw err;
    }
    return w;
  }

  async write(data: Uint8Array): Promise<void> {
    this.#check();
    for (let at = 0; at < data.length; at += WRITE_CHUNK) {
      const piece = data.subarray(at, Math.min(at + WRITE_CHUNK, data.length));
      const bytes = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      await this.#send(request({ action: WriteAction.WRITE, ref: this.#opts.ref, offset: this.#offset, data: bytes }));
    }
  }

  async truncate(size: number): Promise<void> {
    this.#check();
    if (size !== 0) throw new NotImplementedError('only truncate to 0 is supported');
    // A write at offset 0 makes the server start the ingest again.
    await this.#send(request({ action: WriteAction.WRITE, ref: this.#opts.ref, offset: 0 }));
  }

  digest(): string {
    return this.#digest;
  }

  async status(): Promise<Status> {
    this.#check();
    const res = await this.#send(request({ action: WriteAction.STAT, ref: this.#opts.ref }));
    return {
      ref: this.#opts.ref,
      offset: res.offset,
      total: res.total,
      expected: this.#opts.expected ?? '',
      startedAt: fromTimestamp(res.startedAt) ?? new Date(0),
      updatedAt: fromTimestamp(res.updatedAt) ?? new Date(0),
    };
  }

  async commit(size: number, expected?: string, opts?: CommitOptions): Promise<void> {
    this.#check();
    this.#released = true;
    try {
      await this.#send(
        request({
          action: WriteAction.COMMIT,
          ref: this.#opts.ref,
          offset: this.#offset,
          total: size,
          expected: expected ?? '',
          labels: { ...(opts?.labels ?? this.#opts.labels) },
        }),
      );
    } finally {
      await this.#end();
    }
  }

  async close(): Promise<void> {
    this.#released = true;
    await this.#end();
  }

  #check(): void {
    if (this.#released) throw new FailedPreconditionError(`writer for ref ${this.#opts.ref} is closed`);
  }

  async #send(req: WriteContentRequest): Promise<WriteContentResponse> {
    this.#call.write(req);
    let next: IteratorResult<WriteContentResponse>;
    try {
      next = await this.#responses.next();
    } catch (err) {
      this.#released = true;
      throw fromServiceError(err);
    }
    if (next.done) {
      this.#released = true;
      throw new UnavailableError(`write stream for ref ${this.#opts.ref} ended early`);
    }
    this.#offset = next.value.offset;
    if (next.value.digest) this.#digest = next.value.digest;
    return next.value;
  }

  /** #end half-closes the stream and waits for the server to finish, which releases the ref. */
  #end(): Promise<void> {
    this.#ended ??= (async () => {
      this.#call.end();
      try {
        while (!(await this.#responses.next()).done) {
          // Responses after the last request carry nothing new.
        }
      } catch {
        // The call already failed; its error was reported to the caller.
      }
    })();
    return this.#ended;
  }
}
