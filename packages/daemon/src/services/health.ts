import { HealthService, HealthCheckResponse_ServingStatus } from '@ctrd/api/gen/grpc/health/v1/health.js';
import { NotFoundError } from '@ctrd/errdefs';
import { bindService, type GrpcServicePlugin } from '@ctrd/grpc';
import { definePlugin, PluginType } from '@ctrd/plugin';

/**
 * healthPlugin serves `grpc.health.v1.Health`: SERVING while the daemon runs, NOT_SERVING once
 * it starts shutting down (Watch sends the change and ends).
 */
export const healthPlugin = definePlugin<GrpcServicePlugin>({
  type: PluginType.GRPC,
  id: 'healthcheck',
  init(ic) {
    const status = () => (ic.signal.aborted ? HealthCheckResponse_ServingStatus.NOT_SERVING : HealthCheckResponse_ServingStatus.SERVING);
    return {
      grpcServices: () => [
        bindService(HealthService, {
          // Only the server as a whole ("") has a status, as in containerd; any other name is unknown.
          check: async (req) => {
            if (req.service !== '') throw new NotFoundError('unknown service');
            return { status: status() };
          },
          watch: async function* (req, ctx) {
            if (req.service !== '') throw new NotFoundError('unknown service');
            yield { status: status() };
            if (ic.signal.aborted) return;
            await new Promise<void>((resolve) => {
              ic.signal.addEventListener('abort', () => resolve(), { once: true });
              ctx.signal.addEventListener('abort', () => resolve(), { once: true });
            });
            if (ic.signal.aborted) yield { status: status() };
          },
        }),
      ],
    };
  },
});
