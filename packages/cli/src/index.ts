/**
 * `@ctrd/cli` is ctrctl, ctrd's command-line client; its commands live in `commands/` and are
 * loaded only when run.
 *
 * @packageDocumentation
 */
export { table, humanSize, humanDuration } from './output.js';
export { decimalSize, formatLabels, humanAge, jsonSafe, parseDuration, parseLabelArgs, rfc3339 } from './format.js';
export { renderSnapshotTree, type TreeNode } from './snapshot-tree.js';
