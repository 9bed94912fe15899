import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ContentStore } from '@ctrd/content';
import type { Publisher } from '@ctrd/events';
import type { BoundService } from '@ctrd/grpc';
import { contentService } from '@ctrd/grpc-services';
import type { MetadataStore } from '@ctrd/metadata';
import { DEFAULT_NAMESPACE, NAMESPACE_HEADER } from '@ctrd/namespaces';
import { serveServices, type PluginServer, type ServeOptions } from './serve.js';

const quiet: Publisher = { async publish() {} };

/**
 * contentStoreService binds containerd's `containerd.services.content.v1.Content` over one
 * plain ContentStore, as an out-of-process content store serves it: the same store answers
 * whatever namespace the call names, and a call without a namespace header (the daemon sends
 * none for lookups by digest) is served too. Deletes publish no events.
 */
export function contentStoreService(store: ContentStore): BoundService {
  const metadata = { content: () => store } as unknown as MetadataStore;
  const inner = contentService({ metadata, publisher: quiet });
  const implementation: UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(inner.implementation)) {
    implementation[name] = ((call: { metadata: { get(k: string): unknown[]; set(k: string, v: string): void } }, ...rest: unknown[]) => {
      // The shared service resolves a namespace for every call; this store has none to choose.
      if (call.metadata.get(NAMESPACE_HEADER).length === 0) call.metadata.set(NAMESPACE_HEADER, DEFAULT_NAMESPACE);
      return (fn as (...a: unknown[]) => unknown)(call, ...rest);
    }) as UntypedServiceImplementation[string];
  }
  return { definition: inner.definition, implementation };
}

/**
 * serveContentStore serves a ContentStore as containerd's Content gRPC service on a unix
 * socket, for `[proxy_plugins.<name>] type = "content", address = "<socket>"`. Closing the
 * server does not close the store.
 */
export function serveContentStore(store: ContentStore, address: string, opts: ServeOptions = {}): Promise<PluginServer> {
  return serveServices([contentStoreService(store)], address, opts);
}
