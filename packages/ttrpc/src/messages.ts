/**
 * The two ttrpc envelope messages, encoded by hand:
 *
 * ```proto
 * message Request  { string service = 1; string method = 2; bytes payload = 3;
 *                    int64 timeout_nano = 4; repeated KeyValue metadata = 5; }
 * message KeyValue { string key = 1; string value = 2; }
 * message Response { google.rpc.Status status = 1; bytes payload = 2; }
 * message google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
 * ```
 *
 * Frames are built so that a large payload is never copied: the header, the envelope fields and
 * the payload's tag and length go into one small buffer, and the payload follows as its own
 * buffer (protobuf allows fields in any order, and Go's decoder accepts it).
 */
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FRAME_HEADER_LENGTH, MessageType, writeFrameHeader } from './frame.js';

/** KeyValue is one metadata entry of a ttrpc request. */
export interface KeyValue {
  key: string;
  value: string;
}

/** RpcStatus is the subset of `google.rpc.Status` ttrpc uses (details are not decoded). */
export interface RpcStatus {
  code: number;
  message: string;
}

/** TtrpcRequest is the decoded `ttrpc.Request` envelope. */
export interface TtrpcRequest {
  service: string;
  method: string;
  payload: Uint8Array;
  /** Relative deadline in nanoseconds; 0 means none. */
  timeoutNano: bigint;
  metadata: KeyValue[];
}

/** TtrpcResponse is the decoded `ttrpc.Response` envelope. */
export interface TtrpcResponse {
  status?: RpcStatus;
  payload: Uint8Array;
}

/** EncodedFrame is a frame ready for a vectored write: `length` excludes the 10-byte header. */
export interface EncodedFrame {
  parts: Uint8Array[];
  length: number;
}

/** Payloads up to this size are copied into the head buffer: one write beats two for small frames. */
const INLINE_PAYLOAD_MAX = 4096;
const HEADER_PLACEHOLDER = new Uint8Array(FRAME_HEADER_LENGTH);
const EMPTY: Uint8Array = new Uint8Array(0);

function finishFrame(w: BinaryWriter, streamId: number, type: number, field: number, payload: Uint8Array): EncodedFrame {
  const inline = payload.length <= INLINE_PAYLOAD_MAX;
  if (payload.length > 0) {
    w.tag(field, WireType.LengthDelimited).uint32(payload.length);
    if (inline) w.raw(payload);
  }
  const head = w.finish();
  const length = head.length - FRAME_HEADER_LENGTH + (inline ? 0 : payload.length);
  writeFrameHeader(head, length, streamId, type);
  return { parts: inline ? [head] : [head, payload], length };
}

/** encodeRequestFrame builds the frame for one request on stream `streamId`. */
export function encodeRequestFrame(streamId: number, req: TtrpcRequest): EncodedFrame {
  const w = new BinaryWriter().raw(HEADER_PLACEHOLDER);
  if (req.service !== '') w.tag(1, WireType.LengthDelimited).string(req.service);
  if (req.method !== '') w.tag(2, WireType.LengthDelimited).string(req.method);
  if (req.timeoutNano !== 0n) w.tag(4, WireType.Varint).int64(req.timeoutNano);
  for (const kv of req.metadata) {
    w.tag(5, WireType.LengthDelimited).fork();
    if (kv.key !== '') w.tag(1, WireType.LengthDelimited).string(kv.key);
    if (kv.value !== '') w.tag(2, WireType.LengthDelimited).string(kv.value);
    w.join();
  }
  return finishFrame(w, streamId, MessageType.Request, 3, req.payload);
}

/**
 * encodeResponseFrame builds the frame for one response. Like Go's ttrpc it always sends the status
 * field, empty for OK.
 */
export function encodeResponseFrame(streamId: number, status: RpcStatus, payload: Uint8Array): EncodedFrame {
  const w = new BinaryWriter().raw(HEADER_PLACEHOLDER);
  w.tag(1, WireType.LengthDelimited).fork();
  if (status.code !== 0) w.tag(1, WireType.Varint).int32(status.code);
  if (status.message !== '') w.tag(2, WireType.LengthDelimited).string(status.message);
  w.join();
  return finishFrame(w, streamId, MessageType.Response, 2, payload);
}

/** joinFrame concatenates a frame's parts, header included (for tests and diagnostics). */
export function joinFrame(frame: EncodedFrame): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + frame.length);
  let at = 0;
  for (const p of frame.parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function decodeKeyValue(r: BinaryReader, end: number): KeyValue {
  const kv: KeyValue = { key: '', value: '' };
  while (r.pos < end) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.LengthDelimited) kv.key = r.string();
    else if (field === 2 && wt === WireType.LengthDelimited) kv.value = r.string();
    else r.skip(wt, field);
  }
  return kv;
}

/** decodeRequest parses a `ttrpc.Request`; `payload` is a view into `bytes`. */
export function decodeRequest(bytes: Uint8Array): TtrpcRequest {
  const r = new BinaryReader(bytes);
  const req: TtrpcRequest = { service: '', method: '', payload: EMPTY, timeoutNano: 0n, metadata: [] };
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.LengthDelimited) req.service = r.string();
    else if (field === 2 && wt === WireType.LengthDelimited) req.method = r.string();
    else if (field === 3 && wt === WireType.LengthDelimited) req.payload = r.bytes();
    else if (field === 4 && wt === WireType.Varint) req.timeoutNano = BigInt(r.int64());
    else if (field === 5 && wt === WireType.LengthDelimited) {
      const len = r.uint32();
      req.metadata.push(decodeKeyValue(r, r.pos + len));
    } else r.skip(wt, field);
  }
  return req;
}

function decodeStatus(r: BinaryReader, end: number): RpcStatus {
  const st: RpcStatus = { code: 0, message: '' };
  while (r.pos < end) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.Varint) st.code = r.int32();
    else if (field === 2 && wt === WireType.LengthDelimited) st.message = r.string();
    else r.skip(wt, field);
  }
  return st;
}

/** decodeResponse parses a `ttrpc.Response`; `payload` is a view into `bytes`. */
export function decodeResponse(bytes: Uint8Array): TtrpcResponse {
  const r = new BinaryReader(bytes);
  const res: TtrpcResponse = { payload: EMPTY };
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.LengthDelimited) {
      const len = r.uint32();
      res.status = decodeStatus(r, r.pos + len);
    } else if (field === 2 && wt === WireType.LengthDelimited) res.payload = r.bytes();
    else r.skip(wt, field);
  }
  return res;
}
