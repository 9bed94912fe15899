import { TtrpcClient } from '@ctrd/ttrpc';
import { socketPath } from './shim-command.js';

/** ShimConnection is one ttrpc connection to a shim, shared by the tasks `T` it serves. */
export interface ShimConnection<T> {
  address: string;
  client: TtrpcClient;
  tasks: Set<T>;
  /** the shim's pid, once asked. */
  shimPid?: number;
}

/**
 * ShimConnections keeps one connection per shim address: a shim that serves several tasks (ctrd's
 * own, one per namespace) is dialled once. A connection closes when its last task lets go of it;
 * one the shim closes is reported to `onLost` with the tasks it still served.
 */
export class ShimConnections<T> {
  readonly #conns = new Map<string, ShimConnection<T>>();

  constructor(private readonly opts: { timeoutMs: number; onLost: (conn: ShimConnection<T>) => void }) {}

  /** open returns the live connection to `address`, dialling it when there is none. */
  async open(address: string): Promise<ShimConnection<T>> {
    const existing = this.#conns.get(address);
    if (existing !== undefined && !existing.client.isClosed) return existing;
    const client = await TtrpcClient.connect(socketPath(address), { timeoutMs: this.opts.timeoutMs });
    const conn: ShimConnection<T> = { address, client, tasks: new Set() };
    this.#conns.set(address, conn);
    client.onClose(() => {
      this.#forget(conn);
      this.opts.onLost(conn);
    });
    return conn;
  }

  /** release closes a connection no task uses any more. */
  release(conn: ShimConnection<T>): void {
    if (conn.tasks.size > 0) return;
    this.#forget(conn);
    conn.client.close();
  }

  /** closeAll closes every connection, whoever uses it. */
  closeAll(): void {
    for (const c of this.#conns.values()) c.client.close();
    this.#conns.clear();
  }

  #forget(conn: ShimConnection<T>): void {
    if (this.#conns.get(conn.address) === conn) this.#conns.delete(conn.address);
  }
}
