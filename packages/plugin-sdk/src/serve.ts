import { chmod, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { NO_CHANNELZ, type BoundService } from '@ctrd/grpc';
import { NAMESPACE_HEADER } from '@ctrd/namespaces';

/**
 * CallHook is told about each call a served plugin receives: the method path and the
 * `containerd-namespace` header the daemon forwarded (undefined when the call carried none).
 */
export type CallHook = (method: string, namespace: string | undefined) => void;

/** ServeOptions tunes how a plugin's gRPC service is served. */
export interface ServeOptions {
  /** mode of the socket file; 0o660 unless given. */
  mode?: number;
  /** largest message sent or received, in bytes; 16 MiB (containerd's default) unless given. */
  maxMessageSize?: number;
  /** told about every call, e.g. for logging. */
  onCall?: CallHook;
}

/** PluginServer is a running proxy-plugin server: its socket, and `close` to stop it. */
export interface PluginServer {
  readonly address: string;
  /** close stops serving (waiting up to a second for calls in flight) and removes the socket. */
  close(): Promise<void>;
}

function headerOf(call: { metadata?: { get(key: string): Array<string | Buffer> } }): string | undefined {
  const v = call.metadata?.get(NAMESPACE_HEADER)[0];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toString('utf8');
}

/** observed wraps every method of a service so that `hook` sees its calls first. */
function observed(svc: BoundService, hook: CallHook | undefined): BoundService {
  if (!hook) return svc;
  const implementation: UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(svc.implementation)) {
    const path = svc.definition[name]?.path ?? name;
    implementation[name] = ((call: Parameters<typeof headerOf>[0], ...rest: unknown[]) => {
      hook(path, headerOf(call));
      return (fn as (...a: unknown[]) => unknown)(call, ...rest);
    }) as UntypedServiceImplementation[string];
  }
  return { definition: svc.definition, implementation };
}

/**
 * serveServices serves bound gRPC services on a unix socket (`unix://` prefix optional): a
 * stale socket file is removed, the directory is created, and the socket gets `opts.mode`.
 */
export async function serveServices(services: readonly BoundService[], address: string, opts: ServeOptions = {}): Promise<PluginServer> {
  const path = address.startsWith('unix://') ? address.slice('unix://'.length) : address;
  const max = opts.maxMessageSize ?? 16 * 1024 * 1024;
  const server = new Server({ ...NO_CHANNELZ, 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
  for (const svc of services) {
    const s = observed(svc, opts.onCall);
    server.addService(s.definition, s.implementation);
  }
  await mkdir(dirname(path), { recursive: true });
  await unlink(path).catch(() => undefined);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${path}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  await chmod(path, opts.mode ?? 0o660);
  let closed: Promise<void> | undefined;
  return {
    address: path,
    close() {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 1000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        await unlink(path).catch(() => undefined);
      })();
      return closed;
    },
  };
}
