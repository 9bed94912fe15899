/**
 * `@ctrd/fsck` checks a stopped ctrd's root offline, as `ctrd fsck` does for operators and the
 * crash-consistency test does after every injected crash. The invariants:
 *
 * - every blob's bytes hash to its digest;
 * - every metadata reference points at something that exists: namespace blob records at blobs,
 *   image targets at blobs, container snapshot keys at snapshot records, snapshot records at
 *   their parents and at backend snapshots of the same kind, task bundles at containers;
 * - each snapshotter's records match its directories (no half-made, half-committed or
 *   half-removed snapshot);
 * - no mount made by ctrd is left under the root or state directory.
 *
 * Leftovers that ctrd cleans up by itself (ingests to resume, orphan directories, unreferenced
 * blobs and snapshots awaiting collection) are warnings or notes, not errors.
 *
 * @packageDocumentation
 */
export { runFsck } from './fsck.js';
export { formatReport } from './format.js';
export { fsckCommand, type FsckCommandOptions } from './command.js';
export { checkContent, type ContentState } from './content-check.js';
export { checkSnapshotter, type BackendSnapshot } from './snapshot-check.js';
export { checkMetadata } from './metadata-check.js';
export { checkMounts } from './mount-check.js';
export { Findings, type Finding, type FsckOptions, type FsckReport, type Severity } from './types.js';
