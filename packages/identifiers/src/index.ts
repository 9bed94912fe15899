/**
 * `@ctrd/identifiers` holds containerd's naming rules, shared by every store and service.
 *
 * An identifier (a namespace, container id, lease id, or one component of an event topic) is one
 * or more ASCII letters or digits, optionally split into runs by single `.`, `_` or `-` characters,
 * at most 76 bytes long: `default`, `k8s.io`, `task.0.0123`, but not `-x`, `a..b` or `a__b`.
 *
 * A label's key and value together may take at most 4096 bytes (UTF-8).
 *
 * @packageDocumentation
 */

export { validate, isValid, IDENTIFIER_PATTERN, MAX_IDENTIFIER_LENGTH } from './identifier.js';
export { validateLabel, validateLabels, MAX_LABEL_SIZE } from './labels.js';
