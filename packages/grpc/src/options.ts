/**
 * NO_CHANNELZ turns off grpc-js's channelz bookkeeping (call counters and trace events per call,
 * stream and session) on a server. ctrd serves no channelz service, so nothing reads it, yet every
 * call paid for it: `node packages/grpc/dist/bench-calls.js --mode bound`, server CPU per call,
 * three alternating runs each, 195–205 µs with it and 186–191 µs without for a unary call,
 * 256–288 µs and 224–246 µs for a 32 KiB server stream.
 */
export const NO_CHANNELZ = { 'grpc.enable_channelz': 0 } as const;
