/**
 * `@ctrd/plugin` is ctrd's kernel: plugin registrations as plain data, the registry that
 * checks them, the graph that orders them by `requires`, the per-plugin config schema, and the
 * Kernel that initialises them through a tsyringe container and closes them in reverse order.
 *
 * A plugin package exports a registration, e.g.
 * ```ts
 * export const localContentPlugin = definePlugin({
 *   type: PluginType.Content, id: 'content',
 *   init: (ic) => createLocalStore(ic.rootDir),
 * });
 * ```
 * and asks for what it needs through typed tokens: `ic.get(ContentStore)`.
 *
 * @packageDocumentation
 */
export * from './types.js';
export * from './token.js';
export * from './errors.js';
export * from './schema.js';
export * from './registry.js';
export * from './graph.js';
export * from './kernel.js';
export * from './inject.js';
export { definePlugin } from './define.js';
