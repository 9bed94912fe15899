import { NotImplementedError, UnknownError } from '@ctrd/errdefs';
import type { CallOptions, TtrpcClient } from './client.js';
import type { MethodDefinition, ServiceClient, ServiceDefinition } from './definition.js';

function mergeOptions(defaults: CallOptions | undefined, opts: CallOptions | undefined): CallOptions | undefined {
  if (defaults === undefined) return opts;
  if (opts === undefined) return defaults;
  const merged: CallOptions = { ...defaults, ...opts };
  if (defaults.metadata !== undefined && opts.metadata !== undefined) {
    merged.metadata = { ...defaults.metadata, ...opts.metadata };
  }
  return merged;
}

function unaryMethod(
  client: TtrpcClient,
  service: string,
  method: MethodDefinition,
  defaults: CallOptions | undefined,
): (request: unknown, opts?: CallOptions) => Promise<unknown> {
  if (method.requestStream || method.responseStream) {
    return () => Promise.reject(new NotImplementedError(`ttrpc: streaming method ${service}/${method.name}`));
  }
  return async (request, opts) => {
    const payload = method.requestType.encode(request).finish();
    const out = await client.call(service, method.name, payload, mergeOptions(defaults, opts));
    try {
      return method.responseType.decode(out);
    } catch (err) {
      throw new UnknownError(`ttrpc: decode response of ${service}/${method.name}`, { cause: err });
    }
  };
}

/**
 * createClient builds a typed client for a ts-proto generic definition on top of `client`.
 * Each method key becomes `(request, opts?) => Promise<response>` calling `definition.fullName` /
 * `method.name`; `defaults` (e.g. namespace metadata) apply to every call, per-call options win
 * and metadata maps are merged. Streaming methods reject with `NotImplementedError`.
 */
export function createClient<D extends ServiceDefinition>(
  definition: D,
  client: TtrpcClient,
  defaults?: CallOptions,
): ServiceClient<D> {
  const out: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition.methods)) {
    out[key] = unaryMethod(client, definition.fullName, method, defaults);
  }
  return out as ServiceClient<D>;
}
