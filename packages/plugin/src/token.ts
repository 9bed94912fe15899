import type { PluginType } from './types.js';

/**
 * Token is a typed handle for a plugin type: interface and token share a name
 * (`export const ContentStore = createToken<ContentStore>(PluginType.Content)`), so a plugin asks
 * for `ic.get(ContentStore)` and receives a `ContentStore`.
 */
export interface Token<T> {
  readonly type: string;
  readonly description: string;
  /** the symbol the kernel registers instances under in its DI container. */
  readonly symbol: symbol;
  /** phantom field carrying T; never set. */
  readonly __type?: T;
}

type KnownType = (typeof PluginType)[keyof typeof PluginType];

const tokens = new Map<string, Token<unknown>>();

/** createToken returns the token for a plugin type; the same type always yields the same token. */
export function createToken<T>(type: KnownType | (string & {}), description = type): Token<T> {
  let t = tokens.get(type);
  if (!t) {
    t = Object.freeze({ type, description, symbol: typeSymbol(type) });
    tokens.set(type, t);
  }
  return t as Token<T>;
}

/** instanceSymbol is the DI symbol for one plugin instance, by type and ID. */
export function instanceSymbol(type: string, id: string): symbol {
  return Symbol.for(`ctrd.plugin.${type}.${id}`);
}

/** typeSymbol is the DI symbol for a plugin type: the first plugin of that type that loaded. */
export function typeSymbol(type: string): symbol {
  return Symbol.for(`ctrd.plugin.${type}`);
}
