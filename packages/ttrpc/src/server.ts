import { chmod } from 'node:fs/promises';
import net from 'node:net';
import { AlreadyExistsError, UnavailableError } from '@ctrd/errdefs';
import { type Handler, type Resolver, ServerConnection } from './server-connection.js';
import { removeStaleSocket } from './socket-file.js';
import { StatusCode } from './status.js';

/** ServiceHandlers maps method names (`Create`) to their handlers. */
export type ServiceHandlers = Readonly<Record<string, Handler>>;

/** TtrpcServerOptions configures a {@link TtrpcServer}. */
export interface TtrpcServerOptions {
  /**
   * Vets each accepted socket before any byte is read from it; returning false (or throwing)
   * closes it. The place for peer-credential checks.
   */
  onConnection?: (socket: net.Socket) => boolean;
  /** Receives errors no caller can see: listener failures, socket errors other than a peer hanging up. */
  onError?: (err: Error) => void;
  /** How long `close()` waits for in-flight calls before cutting connections (default 10 s). */
  shutdownTimeoutMs?: number;
}

/** ListenOptions configures {@link TtrpcServer.listen}. */
export interface ListenOptions {
  /** File mode for the socket (e.g. `0o660`), applied right after binding. */
  mode?: number;
}

const PEER_GONE = new Set(['ECONNRESET', 'EPIPE']);

/**
 * TtrpcServer serves ttrpc 1.1 unary calls on unix sockets, speaking the same wire as Go's ttrpc
 * server: unknown services and methods answer Unimplemented (`service X`, `method Y`), handler
 * errors answer with the errdefs class's status code and containerd-style message, requests
 * carrying `timeout_nano` abort the handler's signal when it passes.
 */
export class TtrpcServer {
  private readonly services = new Map<string, Map<string, Handler>>();
  private readonly listeners = new Set<net.Server>();
  private readonly connections = new Set<ServerConnection>();
  private readonly resolver: Resolver = (service, method) => this.lookup(service, method);
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: TtrpcServerOptions = {}) {}

  /** connectionCount is the number of open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** register adds a service; registering the same name twice throws `AlreadyExistsError`. */
  register(service: string, handlers: ServiceHandlers): this {
    if (this.services.has(service)) throw new AlreadyExistsError(`ttrpc: service ${service}`);
    const methods = new Map<string, Handler>();
    for (const [name, handler] of Object.entries(handlers)) {
      if (typeof handler === 'function') methods.set(name, handler);
    }
    this.services.set(service, methods);
    return this;
  }

  /**
   * listen binds a unix socket at `path` and serves it. A stale socket file left by a dead server
   * is removed first; a path where a live server still answers is refused with `AlreadyExistsError`.
   * The parent directory must exist.
   */
  async listen(path: string, opts: ListenOptions = {}): Promise<void> {
    this.assertOpen();
    await removeStaleSocket(path);
    const listener = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(path, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    if (opts.mode !== undefined) await chmod(path, opts.mode);
    this.serve(listener);
  }

  /**
   * serve takes over a listening `net.Server` (closed again by `close()`) or a single connected
   * socket (e.g. one end of a socket pair).
   */
  serve(target: net.Server | net.Socket): void {
    this.assertOpen();
    if (target instanceof net.Socket) {
      this.accept(target);
      return;
    }
    this.listeners.add(target);
    target.on('connection', (socket: net.Socket) => this.accept(socket));
    target.on('error', (err) => this.report(err));
  }

  /**
   * close stops accepting, lets in-flight calls finish (closing each connection once it is idle)
   * for up to `timeoutMs` (default `shutdownTimeoutMs`), then cuts what is left. Idempotent.
   */
  close(opts: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(opts.timeoutMs ?? this.opts.shutdownTimeoutMs ?? 10_000);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const listenersClosed = [...this.listeners].map(
      (l) => new Promise<void>((resolve) => l.close(() => resolve())),
    );
    this.listeners.clear();
    const conns = [...this.connections];
    for (const c of conns) c.drain();
    const allClosed = Promise.all(conns.map((c) => c.closed));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([allClosed, timedOut]);
    clearTimeout(timer);
    for (const c of this.connections) c.destroy();
    await allClosed;
    await Promise.all(listenersClosed);
  }

  private accept(socket: net.Socket): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    let approved = true;
    if (this.opts.onConnection !== undefined) {
      try {
        approved = this.opts.onConnection(socket) === true;
      } catch (err) {
        approved = false;
        this.report(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (!approved) {
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(socket, this.resolver, (err) => {
      if (!PEER_GONE.has((err as NodeJS.ErrnoException).code ?? '')) this.report(err);
    });
    this.connections.add(conn);
    void conn.closed.then(() => this.connections.delete(conn));
    socket.resume();
  }

  private lookup(service: string, method: string): ReturnType<Resolver> {
    const methods = this.services.get(service);
    if (methods === undefined) return { code: StatusCode.Unimplemented, message: `service ${service}` };
    return methods.get(method) ?? { code: StatusCode.Unimplemented, message: `method ${method}` };
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new UnavailableError('ttrpc: server closed');
  }

  private report(err: Error): void {
    this.opts.onError?.(err);
  }
}
