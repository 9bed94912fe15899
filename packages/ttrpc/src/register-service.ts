import { InvalidArgumentError, NotImplementedError } from '@ctrd/errdefs';
import type { ServiceDefinition, ServiceImplementation } from './definition.js';
import type { Handler } from './server-connection.js';
import type { TtrpcServer } from './server.js';

type AnyImpl = (request: unknown, ctx: Parameters<Handler>[1]) => unknown;

/**
 * registerService registers a ts-proto generic definition on `server` as service
 * `definition.fullName`, routing wire method `method.name` to `impl[key]`. Requests are decoded
 * (a bad payload answers InvalidArgument) and responses encoded with the definition's codecs.
 * Streaming methods, and methods `impl` lacks at run time, answer NotImplemented.
 */
export function registerService<D extends ServiceDefinition>(
  server: TtrpcServer,
  definition: D,
  impl: ServiceImplementation<D>,
): void {
  const handlers: Record<string, Handler> = {};
  for (const [key, method] of Object.entries(definition.methods)) {
    const fn = (impl as Record<string, AnyImpl | undefined>)[key];
    const wireName = `${definition.fullName}/${method.name}`;
    if (method.requestStream || method.responseStream || typeof fn !== 'function') {
      handlers[method.name] = () => {
        throw new NotImplementedError(`ttrpc: method ${wireName}`);
      };
      continue;
    }
    handlers[method.name] = async (payload, ctx) => {
      let request: unknown;
      try {
        request = method.requestType.decode(payload);
      } catch (err) {
        throw new InvalidArgumentError(`ttrpc: error unmarshalling payload of ${wireName}`, { cause: err });
      }
      const response = await fn.call(impl, request, ctx);
      return method.responseType.encode(response).finish();
    };
  }
  server.register(definition.fullName, handlers);
}
