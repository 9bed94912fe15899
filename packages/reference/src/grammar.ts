/**
 * Regular expressions of the distribution reference grammar, built from small pieces so each rule
 * reads as it is specified:
 *
 * ```
 * reference       := name [ ":" tag ] [ "@" digest ]
 * name            := [domain "/"] path-component ["/" path-component]*
 * domain          := domain-component ["." domain-component]* [":" port-number]
 * domain-component:= /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 * path-component  := alpha-numeric [separator alpha-numeric]*
 * alpha-numeric   := /[a-z0-9]+/
 * separator       := "." | "_" | "__" | any run of "-"
 * tag             := /[\w][\w.-]{0,127}/
 * digest          := algorithm ":" hex   (hex at least 32 characters)
 * ```
 */

const group = (...parts: string[]): string => `(?:${parts.join('')})`;
const optional = (...parts: string[]): string => `${group(...parts)}?`;
const repeated = (...parts: string[]): string => `${group(...parts)}+`;
const capture = (...parts: string[]): string => `(${parts.join('')})`;
const anchored = (...parts: string[]): RegExp => new RegExp(`^${parts.join('')}$`);

const alphaNumeric = '[a-z0-9]+';
// containerd's grammar writes the dash run as `[-]*`; an empty separator adds nothing (two
// alpha-numeric runs side by side are one run) but makes a backtracking engine take exponential
// time on a long name ending in a bad character, so the run is one dash or more here.
const separator = '(?:[._]|__|-+)';
const pathComponent = alphaNumeric + optional(repeated(separator, alphaNumeric));
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = domainComponent + optional(repeated('\\.', domainComponent)) + optional(':', '[0-9]+');
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const name = optional(domain, '/') + pathComponent + optional(repeated('/', pathComponent));

/** REFERENCE_RE captures name, tag and digest of a whole reference. */
export const REFERENCE_RE = anchored(capture(name), optional(':', capture(tag)), optional('@', capture(digest)));
/** NAME_RE captures the domain (when present) and the path of a name. */
export const NAME_RE = anchored(optional(capture(domain), '/'), capture(pathComponent, optional(repeated('/', pathComponent))));
/** TAG_RE matches a whole tag. */
export const TAG_RE = anchored(tag);
/** DIGEST_RE matches a whole digest string. */
export const DIGEST_RE = anchored(digest);
/** IDENTIFIER_RE matches a full 64-character hexadecimal image identifier. */
export const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
/** NAME_TOTAL_LENGTH_MAX is the longest repository name the grammar allows. */
export const NAME_TOTAL_LENGTH_MAX = 255;
