import { InvalidArgumentError } from '@ctrd/errdefs';
import { validateDigest } from './digest.js';
import { IDENTIFIER_RE, NAME_RE, NAME_TOTAL_LENGTH_MAX, REFERENCE_RE, TAG_RE } from './grammar.js';

/** DEFAULT_DOMAIN is the registry a familiar name without a domain refers to. */
export const DEFAULT_DOMAIN = 'docker.io';
/** LEGACY_DEFAULT_DOMAIN is the old spelling of {@link DEFAULT_DOMAIN}, rewritten on normalisation. */
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
/** OFFICIAL_REPO_PREFIX is the path prefix of single-component names on the default domain. */
export const OFFICIAL_REPO_PREFIX = 'library';
/** DEFAULT_TAG is the tag a normalised reference gets when it has neither tag nor digest. */
export const DEFAULT_TAG = 'latest';

/**
 * Reference is a parsed image reference: `[domain/]path[:tag][@digest]`.
 *
 * Instances are immutable; `toString()` gives the canonical string form, which parses back to an
 * equal reference.
 */
export class Reference {
  /** domain is the registry host (with port), or `''` when the reference has none. */
  readonly domain: string;
  /** path is the repository path inside the registry, e.g. `library/busybox`. */
  readonly path: string;
  /** tag is the tag, if any. */
  readonly tag: string | undefined;
  /** digest is the `algorithm:hex` digest, if any. */
  readonly digest: string | undefined;

  constructor(domain: string, path: string, tag?: string, digest?: string) {
    this.domain = domain;
    this.path = path;
    this.tag = tag || undefined;
    this.digest = digest || undefined;
    Object.freeze(this);
  }

  /** name is the repository name: `domain/path`, or just `path` without a domain. */
  get name(): string {
    return this.domain ? `${this.domain}/${this.path}` : this.path;
  }

  /** object is what follows the name: `tag`, `tag@digest`, `@digest` or `''`. */
  get object(): string {
    return (this.tag ?? '') + (this.digest ? `@${this.digest}` : '');
  }

  /** toString returns the canonical form `name[:tag][@digest]`. */
  toString(): string {
    return this.name + (this.tag ? `:${this.tag}` : '') + (this.digest ? `@${this.digest}` : '');
  }

  /** withTag returns a copy with `tag` (validated) and the same digest. */
  withTag(tag: string): Reference {
    if (!TAG_RE.test(tag)) throw new InvalidArgumentError(`invalid tag format ${JSON.stringify(tag)}`);
    return new Reference(this.domain, this.path, tag, this.digest);
  }

  /** withDigest returns a copy with `digest` (validated) and the same tag. */
  withDigest(digest: string): Reference {
    return new Reference(this.domain, this.path, this.tag, validateDigest(digest));
  }

  /** withoutTag returns a copy without the tag, keeping the digest. */
  withoutTag(): Reference {
    return new Reference(this.domain, this.path, undefined, this.digest);
  }

  /** nameOnly returns a copy with neither tag nor digest. */
  nameOnly(): Reference {
    return new Reference(this.domain, this.path);
  }
}

function invalid(s: string, why?: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid reference format${why ? `: ${why}` : ''}: ${JSON.stringify(s)}`);
}

/**
 * parseReference parses `s` strictly by the reference grammar, with no defaults: `busybox` has no
 * domain and no tag, and the first path component is the domain whenever there is more than one.
 *
 * @throws InvalidArgumentError for an empty, malformed, upper-case or over-long name or a bad digest.
 */
export function parseReference(s: string): Reference {
  if (s === '') throw new InvalidArgumentError('invalid reference format: repository name must have at least one component');
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (REFERENCE_RE.test(s.toLowerCase())) throw invalid(s, 'repository name must be lowercase');
    throw invalid(s);
  }
  const [, name, tag, digest] = m as unknown as [string, string, string | undefined, string | undefined];
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidArgumentError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters: ${JSON.stringify(s)}`);
  }
  const nm = NAME_RE.exec(name);
  const domain = nm?.[1] ?? '';
  const path = nm?.[2] ?? name;
  return new Reference(domain, path, tag, digest === undefined ? undefined : validateDigest(digest));
}

/**
 * splitDockerDomain splits a familiar name into domain and remainder: the first component is a
 * domain only when it contains `.` or `:` or is `localhost`; otherwise the domain is `docker.io`,
 * and a single-component name there gets the `library/` prefix.
 */
export function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost')) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `${OFFICIAL_REPO_PREFIX}/${remainder}`;
  return { domain, remainder };
}

/**
 * parseNormalizedNamed parses a familiar name as the docker CLI does, filling in `docker.io` and
 * `library/` (`busybox` → `docker.io/library/busybox`). It adds no tag; see {@link parseDockerRef}.
 *
 * @throws InvalidArgumentError as {@link parseReference}, and for a bare 64-hex identifier.
 */
export function parseNormalizedNamed(s: string): Reference {
  if (IDENTIFIER_RE.test(s)) {
    throw new InvalidArgumentError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) throw invalid(s, 'repository name must be lowercase');
  const ref = parseReference(`${domain}/${remainder}`);
  return ref;
}

/**
 * parseDockerRef normalises `s` (see {@link parseNormalizedNamed}) and gives it the `latest` tag when
 * it has neither tag nor digest; a reference with both keeps only the digest.
 */
export function parseDockerRef(s: string): Reference {
  const ref = parseNormalizedNamed(s);
  if (ref.digest) return ref.withoutTag();
  return tagNameOnly(ref);
}

/** tagNameOnly returns `ref` with the `latest` tag when it has neither tag nor digest. */
export function tagNameOnly(ref: Reference): Reference {
  return ref.tag || ref.digest ? ref : ref.withTag(DEFAULT_TAG);
}

function familiarRepo(ref: Reference): { domain: string; path: string } {
  if (ref.domain !== DEFAULT_DOMAIN) return { domain: ref.domain, path: ref.path };
  const parts = ref.path.split('/');
  const path = parts.length === 2 && parts[0] === OFFICIAL_REPO_PREFIX ? parts[1]! : ref.path;
  return { domain: '', path };
}

/** familiarName returns the short name the docker CLI shows: `docker.io/library/redis` → `redis`. */
export function familiarName(ref: Reference): string {
  const r = familiarRepo(ref);
  return r.domain ? `${r.domain}/${r.path}` : r.path;
}

/** familiarString returns {@link familiarName} with the tag and digest: `redis:7`. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}
