/** writeOut writes bytes to stdout, waiting when its buffer is full. */
export function writeOut(chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = process.stdout.write(chunk, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else process.stdout.once('drain', resolve);
  });
}
