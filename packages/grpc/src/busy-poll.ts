/**
 * Busy polling after each answer.
 *
 * A client that makes many small calls one after the other (`ctr images ls` makes two per image)
 * sends its next request some 50–150 µs after it reads an answer. A Node server that has nothing
 * else to do by then is asleep in `epoll_wait`, its CPU idle, and the request first has to wake
 * that CPU: on a virtual machine, a halted virtual CPU and an interrupt to start it again. Go's
 * runtime, containerd's, spins for a while looking for work before it parks a thread, so its next
 * request is read by a CPU that is still running.
 *
 * After each answer the server keeps its event loop turning for a bounded time: a chain of
 * `setImmediate` callbacks makes libuv poll its sockets without blocking. The window restarts
 * with every answer and ends on its own, so an idle daemon stays idle; CPU is spent only within
 * that long after a call, and only when nothing else runs.
 */

let windowMs = 0;
let until = 0;
let spinning = false;

function turn(): void {
  if (performance.now() < until) setImmediate(turn);
  else spinning = false;
}

/** setBusyPoll sets how long (µs) {@link pollAfterAnswer} keeps polling; 0 turns it off. */
export function setBusyPoll(micros: number): void {
  windowMs = Math.max(0, micros) / 1000;
}

/** busyPollMicros reports the window {@link setBusyPoll} set. */
export function busyPollMicros(): number {
  return windowMs * 1000;
}

/** pollAfterAnswer (re)starts the polling window; a server calls it after each answer it sends. */
export function pollAfterAnswer(): void {
  if (windowMs === 0) return;
  until = performance.now() + windowMs;
  if (spinning) return;
  spinning = true;
  setImmediate(turn);
}
