import { Connection } from '@ctrd/client';

/**
 * ProxyClients shares one gRPC connection per socket address between the proxy plugins that
 * name it, as containerd does; a connection closes when the last plugin using it releases it.
 * Nothing is dialled until the first call, so a plugin loads even while its server is down and
 * its calls fail with Unavailable until the server is up.
 */
export class ProxyClients {
  readonly #conns = new Map<string, { conn: Connection; refs: number }>();

  /** acquire returns the connection to `address`, opening it on first use. */
  acquire(address: string): Connection {
    let e = this.#conns.get(address);
    if (!e) {
      // No namespace of its own: each call forwards the one it was made for, or none.
      e = { conn: new Connection(address, { namespace: '' }), refs: 0 };
      this.#conns.set(address, e);
    }
    e.refs++;
    return e.conn;
  }

  /** release drops one use of `address`'s connection and closes it after the last. */
  release(address: string): void {
    const e = this.#conns.get(address);
    if (!e) return;
    if (--e.refs > 0) return;
    this.#conns.delete(address);
    e.conn.close();
  }
}
