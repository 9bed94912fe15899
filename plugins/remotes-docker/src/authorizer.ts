import { PermissionDeniedError, UnavailableError } from '@ctrd/errdefs';
import type { Challenge } from './www-authenticate.js';

/** Credentials are a username and secret for one registry; an empty username means the secret is a refresh token. */
export interface Credentials {
  username: string;
  password: string;
}

/** CredentialsFn returns the credentials for a registry host, or undefined for anonymous access. */
export type CredentialsFn = (host: string) => Credentials | undefined | Promise<Credentials | undefined>;

/** TokenTransport is the minimal HTTP call the authorizer needs to reach a token service. */
export type TokenTransport = (req: {
  /** host is the registry host whose challenge named the token service. */
  host: string;
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
}) => Promise<{ status: number; text: string }>;

interface Token {
  value: string;
  expiresAt: number;
}

interface HostAuth {
  host: string;
  scheme: 'bearer' | 'basic';
  realm: string;
  service: string;
  challengeScopes: string[];
  creds: Credentials | undefined;
  tokens: Map<string, Promise<Token>>;
}

/** CLIENT_ID is sent to OAuth token endpoints, as other clients identify themselves there. */
const CLIENT_ID = 'containerd-client';
const DEFAULT_TOKEN_LIFETIME_S = 60;

/**
 * Authorizer keeps the authentication state of each registry host: after a host has answered
 * 401 with a challenge, every later request to it carries a header (a Bearer token fetched and
 * cached per scope set, or Basic credentials).
 */
export class Authorizer {
  readonly #hosts = new Map<string, HostAuth>();
  readonly #credentials: CredentialsFn | undefined;
  readonly #transport: TokenTransport;

  constructor(transport: TokenTransport, credentials?: CredentialsFn) {
    this.#transport = transport;
    this.#credentials = credentials;
  }

  /** authorize returns the `Authorization` value for a request to `host` needing `scopes`, if any is known. */
  async authorize(host: string, scopes: string[]): Promise<string | undefined> {
    const h = this.#hosts.get(host);
    if (!h) return undefined;
    if (h.scheme === 'basic') {
      return `Basic ${Buffer.from(`${h.creds!.username}:${h.creds!.password}`).toString('base64')}`;
    }
    const all = [...new Set([...scopes, ...h.challengeScopes])].sort();
    const key = all.join(' ');
    let p = h.tokens.get(key);
    if (p) {
      const t = await p.catch(() => undefined);
      if (!t || t.expiresAt <= Date.now()) p = undefined;
    }
    if (!p) {
      p = this.#fetchToken(h, all);
      h.tokens.set(key, p);
      p.catch(() => h.tokens.delete(key));
    }
    return `Bearer ${(await p).value}`;
  }

  /**
   * challenge records the challenges of a 401 from `host` (replacing what was known) and reports
   * whether a retry can help. `repeated` says the same request was already refused once after
   * authorizing, so the registry refused the credentials or token.
   *
   * @throws PermissionDeniedError for a repeated refusal.
   */
  async challenge(host: string, challenges: Challenge[], repeated: boolean): Promise<boolean> {
    this.#hosts.delete(host);
    if (repeated) {
      const err = challenges.find((c) => c.params.error)?.params.error;
      throw new PermissionDeniedError(`authorization failed for ${host}${err ? `: server message: ${err}` : ''}`);
    }
    for (const c of challenges) {
      if (c.scheme === 'bearer') {
        if (!c.params.realm) continue;
        const creds = await this.#credentials?.(host);
        this.#hosts.set(host, {
          host,
          scheme: 'bearer',
          realm: c.params.realm,
          service: c.params.service ?? '',
          challengeScopes: c.params.scope ? c.params.scope.split(' ').filter(Boolean) : [],
          creds,
          tokens: new Map(),
        });
        return true;
      }
      if (c.scheme === 'basic') {
        const creds = await this.#credentials?.(host);
        if (creds?.username && creds.password) {
          this.#hosts.set(host, { host, scheme: 'basic', realm: '', service: '', challengeScopes: [], creds, tokens: new Map() });
          return true;
        }
      }
    }
    return false;
  }

  async #fetchToken(h: HostAuth, scopes: string[]): Promise<Token> {
    const secret = h.creds?.password;
    if (secret) {
      const form = new URLSearchParams();
      if (scopes.length) form.set('scope', scopes.join(' '));
      form.set('service', h.service);
      form.set('client_id', CLIENT_ID);
      if (h.creds!.username) {
        form.set('grant_type', 'password');
        form.set('username', h.creds!.username);
        form.set('password', secret);
      } else {
        form.set('grant_type', 'refresh_token');
        form.set('refresh_token', secret);
      }
      const r = await this.#transport({
        host: h.host,
        method: 'POST',
        url: h.realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: form.toString(),
      });
      const fallback = r.status === 404 || r.status === 401 || r.status === 400 || (r.status === 405 && !!h.creds!.username);
      if (!fallback) return parseToken(r, 'oauth', ['access_token']);
    }
    const u = new URL(h.realm);
    if (h.service) u.searchParams.append('service', h.service);
    for (const s of scopes) u.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (secret) headers.authorization = `Basic ${Buffer.from(`${h.creds!.username}:${secret}`).toString('base64')}`;
    const r = await this.#transport({ host: h.host, method: 'GET', url: u.toString(), headers });
    return parseToken(r, secret ? 'token' : 'anonymous token', ['access_token', 'token']);
  }
}

function parseToken(r: { status: number; text: string }, what: string, fields: string[]): Token {
  if (r.status < 200 || r.status >= 400) {
    const msg = `failed to fetch ${what}: unexpected status ${r.status}`;
    if (r.status === 401 || r.status === 403) throw new PermissionDeniedError(msg);
    throw new UnavailableError(msg);
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(r.text) as Record<string, unknown>;
  } catch (cause) {
    throw new UnavailableError(`failed to fetch ${what}: unable to decode token response`, { cause });
  }
  const value = fields.map((f) => body[f]).find((v): v is string => typeof v === 'string' && v !== '');
  if (!value) throw new UnavailableError(`failed to fetch ${what}: authorization server did not include a token in the response`);
  const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME_S;
  return { value, expiresAt: Date.now() + lifetime * 1000 - 5000 };
}
