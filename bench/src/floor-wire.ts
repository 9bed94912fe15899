// The few protobuf messages the floor server speaks, encoded by hand so that it loads nothing
// but grpc-js: containerd.services.content.v1 InfoResponse, ReadContentRequest and
// ReadContentResponse.

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function tag(field: number, wireType: number): number[] {
  return varint(field * 8 + wireType);
}

function bytesField(field: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...tag(field, 2), ...varint(value.length)]), value]);
}

/** encodeInfoResponse encodes InfoResponse{info: Info{digest (1), size (2)}}. */
export function encodeInfoResponse(digest: string, size: number): Buffer {
  const info = Buffer.concat([bytesField(1, Buffer.from(digest)), Buffer.from([...tag(2, 0), ...varint(size)])]);
  return bytesField(1, info);
}

/** encodeReadResponse encodes ReadContentResponse{offset (1), data (2)}. */
export function encodeReadResponse(offset: number, data: Buffer): Buffer {
  const head = Buffer.from([...tag(1, 0), ...varint(offset), ...tag(2, 2), ...varint(data.length)]);
  return Buffer.concat([head, data], head.length + data.length);
}

/** decodeReadRequest reads `offset` (2) and `size` (3) of a ReadContentRequest, skipping the rest. */
export function decodeReadRequest(buf: Buffer): { offset: number; size: number } {
  let pos = 0;
  const readVarint = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
  };
  const out = { offset: 0, size: 0 };
  while (pos < buf.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const v = readVarint();
      if (field === 2) out.offset = v;
      else if (field === 3) out.size = v;
    } else if (wire === 2) {
      const len = readVarint();
      pos += len;
    }
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}
