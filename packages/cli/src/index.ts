/**
 * `@ctrd/cli` is ctrctl, ctrd's command-line client; its commands live in `commands/` and are
 * loaded only when run.
 *
 * @packageDocumentation
 */
export { table, humanSize, humanDuration } from './output.js';
