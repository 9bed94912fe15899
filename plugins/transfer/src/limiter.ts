/**
 * Limiter runs at most `max` tasks at once, starting waiting tasks in the order they asked.
 */
export class Limiter {
  readonly #max: number;
  #running = 0;
  readonly #queue: Array<() => void> = [];

  constructor(max: number) {
    this.#max = Math.max(1, Math.floor(max) || 1);
  }

  /** run waits for a free slot, runs `fn` and frees the slot when it settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#max) await new Promise<void>((resolve) => this.#queue.push(resolve));
    else this.#running++;
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
