import type { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { Any } from '@ctrd/api/gen/google/protobuf/any.js';

// The shim imports the leaf modules of `@ctrd/api`, never its index, which loads every generated
// service, gRPC client stubs included, which a shim server has no use for.
export { TypeUrls as WIRE_TYPE_URLS } from '@ctrd/api/type-urls';
export { GO_ZERO_TIMESTAMP, toTimestamp } from '@ctrd/api/timestamp';

/** packAny encodes `message` with `codec` into an Any of type URL `typeUrl`. */
export function packAny<T>(typeUrl: string, codec: { encode(message: T): BinaryWriter }, message: T): Any {
  const bytes = codec.encode(message).finish();
  return { typeUrl, value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}
