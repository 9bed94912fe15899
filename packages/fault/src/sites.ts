/**
 * FAULT_SITES names every fault site compiled into ctrd, with what the process has done (and
 * not yet done) when it dies there. The crash harness checks that a seeded run reaches each one.
 */
export const FAULT_SITES = {
  'content.write': 'an ingest chunk is written to its data file, the writer has not returned',
  'content.commit.before-publish': 'the ingest is fsynced and verified, nothing is moved into blobs/ yet',
  'content.commit.after-publish': 'the blob file is in blobs/, the metadata record for it is not written',
  'metadata.batch': 'a metadata change is gathered, its LevelDB batch is not written',
  'metadata.gc.after-batch': 'a collection removed its records, backend blobs and snapshots are not deleted yet',
  'metadata.snapshot.prepare': 'a backend snapshot is prepared, the namespace record for it is not written',
  'metadata.snapshot.commit': 'the backend committed a snapshot, the namespace records still name the Active one',
  'snapshot.metastore.persist': 'a snapshotter record change is durable (its journal line fdatasynced, or a new base fsynced under its temporary name) but not applied in memory',
  'snapshot.create': 'a new snapshot directory is in place, its record is not written',
  'snapshot.commit': 'an Active snapshot is measured, its Committed record is not written',
  'snapshot.remove': 'a snapshot is being removed: its record or its directory is gone, not both',
  'differ.apply': 'a layer is half applied to a mounted snapshot',
  'transfer.fetch': 'a pull fetched and committed one blob, the rest are still to come',
  'transfer.unpack': 'a pull applied one layer, its snapshot is not committed',
  'runtime.task.create': 'a shim is started and the task created, the create call has not returned',
  'runtime.task.delete': 'a task is deleted in its shim, the bundle is not removed yet',
  'gc.collect': 'the GC scheduler decided to collect, the collection has not started',
} as const;

/** FaultSite is the name of one compiled-in fault site. */
export type FaultSite = keyof typeof FAULT_SITES;

/** FAULT_SITE_NAMES lists every {@link FaultSite}, in a stable order. */
export const FAULT_SITE_NAMES = Object.keys(FAULT_SITES) as FaultSite[];
