import type { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { AlreadyExistsError } from '@ctrd/errdefs';
import { generatedCodecs } from './gen/registry.js';

/**
 * MessageCodec is the part of a generated message object that packing into and out of
 * `google.protobuf.Any` needs; every ts-proto message constant (e.g. `TaskExit`) satisfies it.
 */
export interface MessageCodec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array, length?: number): T;
}

/**
 * TypeRegistry maps full proto message names, which containerd uses verbatim as Any type URLs,
 * to the codecs that decode them.
 */
export class TypeRegistry {
  readonly #codecs = new Map<string, MessageCodec<unknown>>();

  /**
   * Registers `codec` under `fullName`. Registering the same codec twice is a no-op; a different
   * codec under a taken name throws AlreadyExistsError.
   */
  register<T>(fullName: string, codec: MessageCodec<T>): this {
    const existing = this.#codecs.get(fullName);
    if (existing !== undefined && existing !== codec) {
      throw new AlreadyExistsError(`type with url ${fullName}`);
    }
    this.#codecs.set(fullName, codec as MessageCodec<unknown>);
    return this;
  }

  /** Returns the codec registered under `fullName`, if any. */
  get(fullName: string): MessageCodec<unknown> | undefined {
    return this.#codecs.get(fullName);
  }

  /** Reports whether `fullName` is registered. */
  has(fullName: string): boolean {
    return this.#codecs.has(fullName);
  }

  /** Lists the registered names, sorted. */
  names(): string[] {
    return [...this.#codecs.keys()].sort();
  }
}

/**
 * typeRegistry is the default registry. It holds every message generated from packages/api/proto
 * (events, services, shim, runc options, cgroup metrics and the well-known types).
 */
export const typeRegistry = new TypeRegistry();
for (const [name, codec] of Object.entries(generatedCodecs)) {
  typeRegistry.register(name, codec as MessageCodec<unknown>);
}
