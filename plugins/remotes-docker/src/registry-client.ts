import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, buildConnector, request as undiciRequest, type Dispatcher } from 'undici';
import { UnavailableError } from '@ctrd/errdefs';
import type { RegistryHost } from '@ctrd/remotes';
import { Authorizer, type CredentialsFn } from './authorizer.js';
import { redact, statusError } from './errors.js';
import { trustFor } from './trust.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

/** RetryOptions bound the retries on 408, 429 and 5xx answers. */
export interface RetryOptions {
  /** attempts is how many times a request is retried (default 3). */
  attempts?: number;
  /** baseDelayMs is the first backoff, doubled each time (default 200). */
  baseDelayMs?: number;
  /** maxDelayMs caps one backoff, including a server's `Retry-After` (default 5000). */
  maxDelayMs?: number;
}

/** RegistryClientOptions configure {@link RegistryClient}. */
export interface RegistryClientOptions {
  credentials?: CredentialsFn;
  headers?: Record<string, string | string[]>;
  userAgent?: string;
  retry?: RetryOptions;
}

/** BodySource gives a fresh request body each time it is called, so a request can be replayed. */
export type BodySource = () => Uint8Array | Readable;

/** RegistryRequest is one call against a registry host; `path` is below the host's API prefix or absolute URL. */
export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** path is appended to `host.path`; `url` (absolute) wins over it. */
  path?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: BodySource;
  /** replayable says the body can be produced again (false for a one-shot stream). */
  replayable?: boolean;
  scopes: string[];
  signal?: AbortSignal;
  /** authorize is false for URLs outside the registry (blob storage, foreign layers). */
  authorize?: boolean;
}

/** RegistryResponse is a response after auth, redirects and retries; the caller owns `body`. */
export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { text(): Promise<string>; dump(): Promise<void> };
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** header returns the first value of a response header. */
export function header(res: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * connectorFor opens the connections of one TLS setting. Its TLS context is built at the first
 * https connection, not before: reading the certificates costs tens of milliseconds that a pull
 * from a plain-HTTP registry never needs.
 */
function connectorFor(tls: RegistryHost['tls']): buildConnector.connector {
  const plain = buildConnector({});
  let secure: buildConnector.connector | undefined;
  return (opts, callback) => {
    if (opts.protocol !== 'https:') return plain(opts, callback);
    if (!secure) {
      const secureContext = trustFor(tls ?? {});
      secure = buildConnector({ ...(secureContext ? { secureContext } : {}), ...(tls?.skipVerify ? { rejectUnauthorized: false } : {}) });
    }
    return secure(opts, callback);
  };
}

/**
 * RegistryClient sends registry API requests: it keeps one connection pool per TLS setting,
 * authorizes from 401 challenges, follows redirects itself (dropping credentials when the origin
 * changes), and retries 408, 429 and 5xx answers with exponential backoff.
 */
export class RegistryClient {
  readonly authorizer: Authorizer;
  readonly #agents = new Map<string, Agent>();
  readonly #opts: RegistryClientOptions;

  constructor(opts: RegistryClientOptions = {}) {
    this.#opts = opts;
    this.authorizer = new Authorizer(async (req) => {
      const res = await undiciRequest(req.url, {
        method: req.method,
        headers: { ...this.#baseHeaders(), ...req.headers },
        ...(req.body !== undefined ? { body: req.body } : {}),
        dispatcher: this.#agentFor(this.#hostsSeen.get(req.host)),
      });
      return { status: res.statusCode, text: await res.body.text() };
    }, opts.credentials);
  }

  // The token service is reached with the TLS settings of the registry host that sent the challenge.
  readonly #hostsSeen = new Map<string, RegistryHost>();

  #baseHeaders(): Record<string, string | string[]> {
    return { ...(this.#opts.headers ?? {}), 'user-agent': this.#opts.userAgent ?? 'ctrd/0.1' };
  }

  #agentFor(host: RegistryHost | undefined): Agent {
    const tls = host?.tls;
    const key = JSON.stringify(tls ?? {});
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = new Agent({ connections: 8, keepAliveTimeout: 30_000, connect: connectorFor(tls) });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  /** close ends every pooled connection. */
  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }

  /** request sends `req` to `host`, handling auth, redirects and retries; non-2xx answers are returned, not thrown. */
  async request(host: RegistryHost, req: RegistryRequest): Promise<RegistryResponse> {
    const retry = { attempts: 3, baseDelayMs: 200, maxDelayMs: 5000, ...this.#opts.retry };
    const url = req.url ?? `${host.scheme}://${host.host}${host.path === '/' ? '' : host.path}${req.path ?? ''}`;
    let method = req.method;
    let authFailures = 0;
    let retries = 0;
    let used = false;
    this.#hostsSeen.set(host.host, host);
    for (;;) {
      if (used && req.body && req.replayable === false) throw new UnavailableError(`cannot replay the body of ${method} ${url}`);
      used = true;
      const res = await this.#send(host, { ...req, method }, url);
      if (res.status === 401 && req.authorize !== false) {
        const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
        const text = await res.body.text().catch(() => '');
        const again = await this.authorizer.challenge(host.host, challenges, authFailures > 0);
        authFailures++;
        if (again) continue;
        throw statusError(method, url, 401, text);
      }
      if (res.status === 405 && method === 'HEAD' && url.includes('/manifests/')) {
        await res.body.dump();
        method = 'GET';
        continue;
      }
      if ((res.status === 408 || res.status === 429 || res.status >= 500) && retries < retry.attempts) {
        await res.body.dump();
        const after = Number(header(res, 'retry-after'));
        const delay = Math.min(retry.maxDelayMs, Number.isFinite(after) && after > 0 ? after * 1000 : retry.baseDelayMs * 2 ** retries);
        retries++;
        await sleep(delay, undefined, req.signal ? { signal: req.signal } : undefined);
        continue;
      }
      return res;
    }
  }

  /** requestOk is {@link request} that throws the mapped error for any status outside `ok`. */
  async requestOk(host: RegistryHost, req: RegistryRequest, ok: number[] = [200]): Promise<RegistryResponse> {
    const res = await this.request(host, req);
    if (ok.includes(res.status)) return res;
    const body = req.method === 'HEAD' ? '' : await res.body.text().catch(() => '');
    if (req.method === 'HEAD') await res.body.dump();
    throw statusError(req.method, res.url, res.status, body);
  }

  async #send(host: RegistryHost, req: RegistryRequest, startUrl: string): Promise<RegistryResponse> {
    const origin = new URL(startUrl).origin;
    const hostHeaders: Record<string, string | string[]> = { ...(host.header ?? {}) };
    let url = startUrl;
    let method = req.method;
    let withBody = !!req.body;
    for (let hops = 0; ; hops++) {
      const sameOrigin = new URL(url).origin === origin;
      const headers: Record<string, string | string[]> = { ...this.#baseHeaders(), ...hostHeaders, ...(req.headers ?? {}) };
      if (req.authorize !== false && sameOrigin) {
        const auth = await this.authorizer.authorize(host.host, req.scopes);
        if (auth) headers.authorization = auth;
      }
      if (!sameOrigin) {
        for (const k of Object.keys(headers)) if (/^(authorization|cookie)$/i.test(k)) delete headers[k];
      }
      if (!withBody) {
        for (const k of Object.keys(headers)) if (/^content-(length|type)$/i.test(k)) delete headers[k];
      }
      let res: Dispatcher.ResponseData;
      try {
        res = await undiciRequest(url, {
          method,
          headers,
          ...(withBody && req.body ? { body: req.body() } : {}),
          dispatcher: this.#agentFor(host),
          ...(req.signal ? { signal: req.signal } : {}),
        });
      } catch (cause) {
        if (req.signal?.aborted) throw cause;
        throw new UnavailableError(`failed to do request: ${method} ${redact(url)}: ${describe(cause)}`, { cause });
      }
      const location = header({ headers: res.headers }, 'location');
      if (!REDIRECTS.has(res.statusCode) || !location || req.method === 'POST' || req.method === 'PATCH') {
        return { status: res.statusCode, headers: res.headers, body: res.body as RegistryResponse['body'], url };
      }
      await res.body.dump();
      if (hops >= MAX_REDIRECTS) throw new UnavailableError(`stopped after ${MAX_REDIRECTS} redirects from ${startUrl}`);
      url = new URL(location, url).toString();
      if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method !== 'GET' && method !== 'HEAD' && method !== 'PUT')) {
        method = 'GET';
        withBody = false;
      }
      if (withBody && req.replayable === false) throw new UnavailableError(`cannot replay the body of ${method} ${startUrl} after a redirect`);
    }
  }
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  const inner = e.cause?.message ?? e.cause?.code;
  return [e.message || e.code, inner].filter(Boolean).join(': ');
}
