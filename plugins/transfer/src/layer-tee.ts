/** DEFAULT_TEE_BUFFER is how much a tee holds for a consumer that has not started (16 MiB). */
export const DEFAULT_TEE_BUFFER = 16 << 20;

/**
 * LayerTee hands a download's bytes, as they are written to the content store, to one later
 * consumer (the layer's apply) without holding more than a bounded amount in memory.
 *
 * Until the consumer attaches, chunks are buffered; past `limit` bytes the tee detaches for
 * good (the consumer then reads the committed blob instead). Once attached, the producer waits
 * while more than `limit` bytes are unread, so the download slows to the apply's pace.
 */
export class LayerTee {
  readonly #limit: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #state: 'open' | 'attached' | 'detached' = 'open';
  #ended = false;
  #error: unknown;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;
  /** settles once the producer said whether it streams from the first byte (see {@link start}). */
  readonly #decided: Promise<void>;
  #decide!: () => void;

  constructor(limit = DEFAULT_TEE_BUFFER) {
    this.#limit = limit;
    this.#decided = new Promise<void>((resolve) => (this.#decide = resolve));
  }

  /**
   * start says the download begins at the blob's first byte, so the stream can be consumed. Until
   * it (or a push, an end or a detach) is called, {@link attach} waits: a download that resumes
   * an earlier ingest detaches instead, and a consumer must not have begun on a stream that will
   * never hold the blob's start.
   */
  start(): void {
    this.#decide();
  }

  /** detached is true once the tee gave up streaming: the consumer must read the stored blob. */
  get detached(): boolean {
    return this.#state === 'detached';
  }

  /**
   * push offers one chunk, which the producer hands over (the consumer may move its buffer to
   * another thread); it resolves once there is room, and drops the chunk after a detach.
   */
  async push(chunk: Uint8Array): Promise<void> {
    this.#decide();
    if (this.#state === 'detached' || this.#ended) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    this.#wake();
    while (this.#buffered > this.#limit) {
      if (this.#state === 'open') {
        this.detach();
        return;
      }
      if (this.#state !== 'attached') return;
      await new Promise<void>((resolve) => (this.#wakeProducer = resolve));
    }
  }

  /** end marks the end of the stream; `err` makes the consumer's next read throw it. */
  end(err?: unknown): void {
    if (this.#ended) return;
    this.#decide();
    this.#ended = true;
    this.#error = err;
    this.#wake();
  }

  /** detach drops the buffer and stops streaming; a consumer already attached gets an error. */
  detach(): void {
    this.#decide();
    if (this.#state === 'detached') return;
    const wasAttached = this.#state === 'attached';
    this.#state = 'detached';
    this.#chunks = [];
    this.#buffered = 0;
    if (wasAttached && !this.#ended) this.end(new Error('layer stream detached'));
    this.#wake();
  }

  /**
   * attach waits until the producer has decided (see {@link start}), then returns the stream from
   * its first byte, or undefined when the tee has detached. Only one consumer may attach;
   * breaking out of the iteration detaches the tee.
   */
  async attach(): Promise<AsyncIterable<Uint8Array> | undefined> {
    await this.#decided;
    if (this.#state !== 'open') return undefined;
    this.#state = 'attached';
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        let finished = false;
        try {
          for (;;) {
            const chunk = self.#chunks.shift();
            if (chunk) {
              self.#buffered -= chunk.length;
              self.#wakeProducer?.();
              self.#wakeProducer = undefined;
              yield chunk;
              continue;
            }
            if (self.#ended) {
              if (self.#error !== undefined) throw self.#error;
              finished = true;
              return;
            }
            await new Promise<void>((resolve) => (self.#wakeConsumer = resolve));
          }
        } finally {
          if (!finished) self.detach();
        }
      },
    };
  }

  #wake(): void {
    this.#wakeConsumer?.();
    this.#wakeConsumer = undefined;
    this.#wakeProducer?.();
    this.#wakeProducer = undefined;
  }
}
