/**
 * drained waits until a writable stream can take more (its buffer emptied, as HTTP/2 flow
 * control lets it) or is closed.
 */
export function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
