import type { Socket } from 'node:net';
import { libc } from './libc.js';

/** PeerCredentials are the ids of the process at the other end of a unix socket. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/**
 * requireSameUser returns a connection check that admits only peers running as this process's
 * effective uid and gid, as containerd's shims require of whoever dials them: the socket's mode
 * already keeps others out, this also holds when the mode is wrong. A socket whose descriptor or
 * credentials cannot be read is refused. `credentials` is replaceable for tests.
 */
export function requireSameUser(
  onRefused: (peer: PeerCredentials | undefined) => void = () => {},
  credentials: (fd: number) => PeerCredentials = (fd) => libc().peerCredentials(fd),
): (socket: Socket) => boolean {
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  return (socket) => {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    let peer: PeerCredentials | undefined;
    try {
      if (typeof fd === 'number' && fd >= 0) peer = credentials(fd);
    } catch {
      peer = undefined;
    }
    if (peer && peer.uid === uid && peer.gid === gid) return true;
    onRefused(peer);
    return false;
  };
}
