/**
 * firstValue is the first of a header's values. Node's HTTP/2 server folds a repeated header
 * into one value joined with `, `; containerd (grpc-go keeps the fields apart) uses the first, so
 * the folded value is cut at its first comma. The headers read this way carry identifiers, which
 * never contain a comma.
 */
export function firstValue(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const comma = s.indexOf(',');
  return comma < 0 ? s : s.slice(0, comma).trim();
}

/**
 * cancelledReason builds the reason a cancelled call's signal carries. Without a stack trace: a Go
 * client cancels every call it has finished with (the HTTP/2 stream is reset), so this runs for
 * most calls and the trace would only ever point here.
 */
export function cancelledReason(): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Error('call cancelled by the client');
  } finally {
    Error.stackTraceLimit = limit;
  }
}
