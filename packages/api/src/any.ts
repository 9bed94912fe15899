import { InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';
import type { Any } from './gen/google/protobuf/any.js';
import type { GeneratedMessageTypes } from './gen/registry.js';
import { typeRegistry, type MessageCodec, type TypeRegistry } from './type-registry.js';

/**
 * packAny encodes `message` with `codec` and wraps it as an Any whose type URL is the bare full
 * proto name (e.g. `containerd.events.TaskExit`), as containerd writes them — there is no
 * `type.googleapis.com/` prefix.
 */
export function packAny<T>(fullName: string, codec: MessageCodec<T>, message: T): Any {
  const bytes = codec.encode(message).finish();
  return { typeUrl: fullName, value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * unpackAny decodes an Any by looking its type URL up in `registry` (the generated messages by
 * default). The URL must match a registered full name exactly, as in containerd's typeurl.
 *
 * @throws NotFoundError when no codec is registered for the type URL.
 */
export function unpackAny(any: Any, registry: TypeRegistry = typeRegistry): unknown {
  const codec = registry.get(any.typeUrl);
  if (codec === undefined) throw new NotFoundError(`type with url ${any.typeUrl}`);
  return codec.decode(any.value);
}

/**
 * unpackAnyAs decodes an Any that must carry the generated message `fullName`, and returns it
 * with that message's type, e.g. `unpackAnyAs(envelope.event, TypeUrls.TaskExit)`.
 *
 * @throws InvalidArgumentError when the Any holds a different type.
 */
export function unpackAnyAs<K extends keyof GeneratedMessageTypes>(any: Any, fullName: K): GeneratedMessageTypes[K] {
  if (any.typeUrl !== fullName) {
    throw new InvalidArgumentError(`expected type ${fullName}, got ${any.typeUrl || '(empty)'}`);
  }
  return unpackAny(any) as GeneratedMessageTypes[K];
}
