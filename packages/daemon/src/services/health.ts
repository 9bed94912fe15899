import { HealthService, HealthCheckResponse_ServingStatus } from '@ctrd/api/gen/grpc/health/v1/health.js';
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
          check: async () => ({ status: status() }),
          watch: async function* (_req, ctx) {
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
