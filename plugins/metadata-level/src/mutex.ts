/**
 * Mutex is an async lock: `run(fn)` waits for every earlier holder to finish, then runs `fn`.
 * Writers that read, decide and write (create-if-absent, field-mask updates) hold it so that no
 * other writer slips in between the read and the batch.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** run executes `fn` while holding the lock and returns its result. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    try {
      await prev;
      return await fn();
    } finally {
      release();
    }
  }
}
