import type { Publisher } from '@ctrd/events';
import type { GcScheduler, MetadataStore } from '@ctrd/metadata';

/** ServiceDeps is what the services are built on: the metadata store, the event publisher and, when loaded, the GC scheduler. */
export interface ServiceDeps {
  metadata: MetadataStore;
  publisher: Publisher;
  /** without one, a `sync` delete runs a collection itself. */
  gc?: GcScheduler;
  /** taskStatus reports the status of a container's task, or undefined when it has none. */
  taskStatus?(namespace: string, id: string): Promise<string | undefined>;
}

/** collectNow runs a collection through the scheduler when there is one, else directly. */
export async function collectNow(deps: Pick<ServiceDeps, 'metadata' | 'gc'>): Promise<void> {
  if (deps.gc) await deps.gc.scheduleAndWait();
  else await deps.metadata.collectGarbage();
}
