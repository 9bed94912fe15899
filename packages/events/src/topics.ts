/**
 * TOPICS lists the topics containerd's own components publish on, so publishers and tests spell
 * them the same way (note the singular `/snapshot/…`).
 */
export const TOPICS = Object.freeze({
  namespaceCreate: '/namespaces/create',
  namespaceUpdate: '/namespaces/update',
  namespaceDelete: '/namespaces/delete',
  containerCreate: '/containers/create',
  containerUpdate: '/containers/update',
  containerDelete: '/containers/delete',
  imageCreate: '/images/create',
  imageUpdate: '/images/update',
  imageDelete: '/images/delete',
  contentDelete: '/content/delete',
  snapshotPrepare: '/snapshot/prepare',
  snapshotCommit: '/snapshot/commit',
  snapshotRemove: '/snapshot/remove',
  taskCreate: '/tasks/create',
  taskStart: '/tasks/start',
  taskExit: '/tasks/exit',
  taskDelete: '/tasks/delete',
  taskOOM: '/tasks/oom',
  taskExecAdded: '/tasks/exec-added',
  taskExecStarted: '/tasks/exec-started',
  taskPaused: '/tasks/paused',
  taskResumed: '/tasks/resumed',
  taskCheckpointed: '/tasks/checkpointed',
} as const);
