import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Token } from './token.js';
import { instanceSymbol } from './token.js';

/**
 * injectToken marks a constructor parameter as the first plugin of a token's type (or, with
 * `id`, that plugin), for classes built with `ic.instantiate(Class)`.
 */
export function injectToken<T>(token: Token<T>, id?: string): ParameterDecorator {
  return inject(id ? instanceSymbol(token.type, id) : token.symbol) as ParameterDecorator;
}

/** pluginClass marks a class as constructible by `ic.instantiate`. */
export function pluginClass(): ClassDecorator {
  return injectable() as ClassDecorator;
}
