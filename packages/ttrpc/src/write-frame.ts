import type { Socket } from 'node:net';
import type { EncodedFrame } from './messages.js';

/**
 * writeFrame writes a frame's parts to `socket` as one vectored write, without joining them.
 * Writes to a socket that is already gone are dropped: its close handling fails the callers.
 */
export function writeFrame(socket: Socket, frame: EncodedFrame): void {
  if (socket.destroyed || !socket.writable) return;
  const { parts } = frame;
  if (parts.length === 1) {
    socket.write(parts[0]!);
    return;
  }
  socket.cork();
  for (const p of parts) socket.write(p);
  socket.uncork();
}
