/**
 * TypeUrls names the Any type URLs of the protobuf payloads ctrd sends and receives: every event
 * (note that image events live in `containerd.services.images.v1`), the runc shim's options and
 * the cgroup metrics a shim returns from Stats. Each is the bare full proto name.
 */
export const TypeUrls = {
  ContainerCreate: 'containerd.events.ContainerCreate',
  ContainerUpdate: 'containerd.events.ContainerUpdate',
  ContainerDelete: 'containerd.events.ContainerDelete',
  ContentDelete: 'containerd.events.ContentDelete',
  ImageCreate: 'containerd.services.images.v1.ImageCreate',
  ImageUpdate: 'containerd.services.images.v1.ImageUpdate',
  ImageDelete: 'containerd.services.images.v1.ImageDelete',
  NamespaceCreate: 'containerd.events.NamespaceCreate',
  NamespaceUpdate: 'containerd.events.NamespaceUpdate',
  NamespaceDelete: 'containerd.events.NamespaceDelete',
  SnapshotPrepare: 'containerd.events.SnapshotPrepare',
  SnapshotCommit: 'containerd.events.SnapshotCommit',
  SnapshotRemove: 'containerd.events.SnapshotRemove',
  TaskCreate: 'containerd.events.TaskCreate',
  TaskStart: 'containerd.events.TaskStart',
  TaskDelete: 'containerd.events.TaskDelete',
  TaskExit: 'containerd.events.TaskExit',
  TaskOOM: 'containerd.events.TaskOOM',
  TaskExecAdded: 'containerd.events.TaskExecAdded',
  TaskExecStarted: 'containerd.events.TaskExecStarted',
  TaskPaused: 'containerd.events.TaskPaused',
  TaskResumed: 'containerd.events.TaskResumed',
  TaskCheckpointed: 'containerd.events.TaskCheckpointed',
  RuncOptions: 'containerd.runc.v1.Options',
  RuncCheckpointOptions: 'containerd.runc.v1.CheckpointOptions',
  RuncProcessDetails: 'containerd.runc.v1.ProcessDetails',
  CgroupsV1Metrics: 'io.containerd.cgroups.v1.Metrics',
  CgroupsV2Metrics: 'io.containerd.cgroups.v2.Metrics',
} as const;

/** TypeUrl is any one of the {@link TypeUrls} values. */
export type TypeUrl = (typeof TypeUrls)[keyof typeof TypeUrls];

/**
 * SpecTypeUrls names the type URLs containerd gives OCI runtime-spec values, which travel in an
 * Any as JSON rather than protobuf (container spec, exec process spec, resource updates).
 */
export const SpecTypeUrls = {
  Spec: 'types.containerd.io/opencontainers/runtime-spec/1/Spec',
  Process: 'types.containerd.io/opencontainers/runtime-spec/1/Process',
  LinuxResources: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources',
  WindowsResources: 'types.containerd.io/opencontainers/runtime-spec/1/WindowsResources',
} as const;
