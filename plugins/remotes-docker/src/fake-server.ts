import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

/** SeenRequest is what a fake server records of each request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** FakeServer is a programmable HTTP(S) server on 127.0.0.1 for tests. */
export interface FakeServer {
  origin: string;
  host: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** FakeHandler answers one request; `body` is the request body read in full. */
export type FakeHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

/** startFakeServer listens on a free 127.0.0.1 port, over TLS when `tls` is given. */
export async function startFakeServer(handler: FakeHandler, tls?: { cert: string; key: string }): Promise<FakeServer> {
  const seen: SeenRequest[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString() });
      Promise.resolve(handler(req, res, body)).catch((err: Error) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  };
  const server: Server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const host = `127.0.0.1:${port}`;
  return {
    origin: `${tls ? 'https' : 'http'}://${host}`,
    host,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
