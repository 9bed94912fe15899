/**
 * The shape of ts-proto's `outputServices=generic-definitions` output, as far as ttrpc needs it:
 *
 * ```ts
 * export const TaskDefinition = {
 *   name: 'Task',
 *   fullName: 'containerd.task.v2.Task',
 *   methods: {
 *     state: { name: 'State', requestType: StateRequest, requestStream: false,
 *              responseType: StateResponse, responseStream: false, options: {} },
 *   },
 * } as const;
 * ```
 */
import type { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { CallOptions } from './client.js';
import type { CallContext } from './server-connection.js';

/** MessageFns is the codec half of a ts-proto message object. */
export interface MessageFns<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: Uint8Array): T;
}

/** MethodDefinition describes one RPC; `name` is the method name on the wire. */
export interface MethodDefinition<Req = any, Res = any> {
  readonly name: string;
  readonly requestType: MessageFns<Req>;
  readonly requestStream: boolean;
  readonly responseType: MessageFns<Res>;
  readonly responseStream: boolean;
  readonly options?: unknown;
}

/** ServiceDefinition describes a service; `fullName` is the ttrpc service name. */
export interface ServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: { readonly [key: string]: MethodDefinition };
}

/** RequestOf is the request message type of a method definition. */
export type RequestOf<M> = M extends { requestType: { decode(input: Uint8Array): infer T } } ? T : never;
/** ResponseOf is the response message type of a method definition. */
export type ResponseOf<M> = M extends { responseType: { decode(input: Uint8Array): infer T } } ? T : never;

/** ServiceClient is the typed client for a definition: one async function per method key. */
export type ServiceClient<D extends ServiceDefinition> = {
  readonly [K in keyof D['methods']]: (
    request: RequestOf<D['methods'][K]>,
    opts?: CallOptions,
  ) => Promise<ResponseOf<D['methods'][K]>>;
};

/** ServiceImplementation is what a server supplies for a definition: one handler per method key. */
export type ServiceImplementation<D extends ServiceDefinition> = {
  readonly [K in keyof D['methods']]: (
    request: RequestOf<D['methods'][K]>,
    ctx: CallContext,
  ) => Promise<ResponseOf<D['methods'][K]>> | ResponseOf<D['methods'][K]>;
};
