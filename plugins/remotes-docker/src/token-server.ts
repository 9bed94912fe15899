import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** TokenServer is a registry token service on 127.0.0.1 signing JWTs with a throwaway key. */
export interface TokenServer {
  /** the URL clients fetch tokens from (the registry's `realm`). */
  realm: string;
  service: string;
  issuer: string;
  /** the PEM certificate of the signing key: the registry's `rootcertbundle`. */
  certFile: string;
  /** token requests seen: how they came (`GET` with basic auth, `POST` form) and for whom. */
  requests: Array<{ method: string; user: string; scope: string }>;
  stop(): Promise<void>;
}

/** TokenServerOptions name the one account the server knows. */
export interface TokenServerOptions {
  username: string;
  password: string;
  service?: string;
  issuer?: string;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

interface Grant {
  user: string;
  password: string;
  scopes: string[];
}

async function readGrant(req: IncomingMessage, url: URL): Promise<Grant> {
  let body = '';
  for await (const c of req) body += c;
  if (req.method === 'POST') {
    const form = new URLSearchParams(body);
    return { user: form.get('username') ?? '', password: form.get('password') ?? '', scopes: (form.get('scope') ?? '').split(' ').filter(Boolean) };
  }
  const auth = req.headers.authorization ?? '';
  const basic = /^Basic (.+)$/i.exec(auth);
  const [user, ...rest] = basic ? Buffer.from(basic[1]!, 'base64').toString().split(':') : [''];
  return { user: user ?? '', password: rest.join(':'), scopes: url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean) };
}

function access(scopes: string[]): Array<{ type: string; name: string; actions: string[] }> {
  return scopes.flatMap((s) => {
    const m = /^([a-z]+):(.+):([a-z*,]+)$/.exec(s);
    return m ? [{ type: m[1]!, name: m[2]!, actions: m[3]!.split(',') }] : [];
  });
}

function jwt(key: KeyObject, x5c: string, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [x5c] }));
  const body = b64url(JSON.stringify(claims));
  const sig = sign('sha256', Buffer.from(`${head}.${body}`), key);
  return `${head}.${body}.${b64url(sig)}`;
}

/**
 * startTokenServer makes an RSA key and a self-signed certificate with `openssl`, and serves
 * `/token` the way Docker's token auth expects: GET with basic credentials or an OAuth POST
 * (`grant_type=password`) for the one account, answered with a JWT (RS256, the certificate in
 * `x5c`) granting the scopes asked for; anything else gets 401.
 */
export async function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-token-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=ctrd test token issuer'], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyFile));
  const x5c = new X509Certificate(readFileSync(certFile)).raw.toString('base64');
  const service = o.service ?? 'ctrd-test-registry';
  const issuer = o.issuer ?? 'ctrd-test-issuer';
  const requests: TokenServer['requests'] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const g = await readGrant(req, url);
    requests.push({ method: req.method ?? '', user: g.user, scope: g.scopes.join(' ') });
    if (url.pathname !== '/token' || g.user !== o.username || g.password !== o.password) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(key, x5c, {
      iss: issuer, sub: g.user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access: access(g.scopes),
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() }));
  };
  const server: Server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
