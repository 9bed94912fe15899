import * as grpc from '@grpc/grpc-js';

/** CallOutcome is how one fuzzed call ended. */
export interface CallOutcome {
  code: number;
  details: string;
  /** response messages received. */
  messages: number;
  /** a unary call's response bytes. */
  response?: Buffer;
  /** the first few response messages of a streaming call. */
  responses?: Buffer[];
}

/** CallShape says how to drive a call's streams. */
export interface CallShape {
  deadlineMs: number;
  /** cancel a server stream after this long (for streams that never end by themselves). */
  cancelAfterMs?: number;
  /** cancels the call when aborted. */
  signal?: AbortSignal;
  /** for client streams: `end` half-closes after the last message, `cancel` drops the call instead. */
  finish?: 'end' | 'cancel';
}

const identity = (b: Buffer): Buffer => b;

/**
 * RawClient sends pre-encoded request bytes to any method path and reports the status,
 * with no codec in the way: the bytes may be anything, valid protobuf or not.
 */
export class RawClient {
  readonly #client: grpc.Client;

  constructor(address: string) {
    this.#client = new grpc.Client(`unix://${address}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 << 20,
      'grpc.max_send_message_length': 64 << 20,
    });
  }

  /** unary makes a one-request, one-response call. */
  unary(path: string, req: Buffer, md: grpc.Metadata, shape: CallShape): Promise<CallOutcome> {
    return new Promise((resolve) => {
      this.#client.makeUnaryRequest(path, identity, identity, req, md, { deadline: Date.now() + shape.deadlineMs }, (err, res) => {
        if (err) resolve({ code: err.code, details: err.details, messages: 0 });
        else resolve({ code: grpc.status.OK, details: '', messages: 1, response: res ?? Buffer.alloc(0) });
      });
    });
  }

  /** serverStream sends one request and reads every response until the status (or its own cancel). */
  serverStream(path: string, req: Buffer, md: grpc.Metadata, shape: CallShape): Promise<CallOutcome> {
    const call = this.#client.makeServerStreamRequest(path, identity, identity, req, md, { deadline: Date.now() + shape.deadlineMs });
    return this.#collect(call, shape);
  }

  /** stream drives a client- or bidi-streaming call: writes `reqs`, then ends or cancels. */
  stream(path: string, serverStreaming: boolean, reqs: Buffer[], md: grpc.Metadata, shape: CallShape): Promise<CallOutcome> {
    const opts = { deadline: Date.now() + shape.deadlineMs };
    if (!serverStreaming) {
      return new Promise((resolve) => {
        const call = this.#client.makeClientStreamRequest(path, identity, identity, md, opts, (err, res) => {
          if (err) resolve({ code: err.code, details: err.details, messages: 0 });
          else resolve({ code: grpc.status.OK, details: '', messages: res ? 1 : 0 });
        });
        call.on('error', () => {});
        for (const r of reqs) call.write(r);
        if (shape.finish === 'cancel') setImmediate(() => call.cancel());
        else call.end();
      });
    }
    const call = this.#client.makeBidiStreamRequest(path, identity, identity, md, opts);
    const done = this.#collect(call, shape);
    for (const r of reqs) call.write(r);
    if (shape.finish === 'cancel') setImmediate(() => call.cancel());
    else call.end();
    return done;
  }

  #collect(call: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>, shape: CallShape): Promise<CallOutcome> {
    return new Promise((resolve) => {
      let messages = 0;
      const responses: Buffer[] = [];
      const timer = shape.cancelAfterMs !== undefined ? setTimeout(() => call.cancel(), shape.cancelAfterMs) : undefined;
      call.on('data', (b: Buffer) => {
        if (messages++ < 4) responses.push(b);
      });
      call.on('error', () => {});
      const cancel = () => call.cancel();
      shape.signal?.addEventListener('abort', cancel, { once: true });
      call.on('status', (s: grpc.StatusObject) => {
        if (timer) clearTimeout(timer);
        shape.signal?.removeEventListener('abort', cancel);
        resolve({ code: s.code, details: s.details, messages, responses });
      });
    });
  }

  /** close closes the channel. */
  close(): void {
    this.#client.close();
  }
}
