import { VersionService } from '@ctrd/api/gen/containerd/services/version/v1/version.js';
import { bindService, type GrpcServicePlugin } from '@ctrd/grpc';
import { definePlugin, PluginType } from '@ctrd/plugin';
import { REVISION, VERSION } from '../version.js';

/** versionPlugin serves containerd's Version service with ctrd's version and revision. */
export const versionPlugin = definePlugin<GrpcServicePlugin>({
  type: PluginType.GRPC,
  id: 'version',
  init: () => ({
    grpcServices: () => [bindService(VersionService, { version: async () => ({ version: VERSION, revision: REVISION }) })],
  }),
});
