import { koffi } from '@ctrd/mount';

/**
 * sdNotify sends a state string (e.g. `READY=1`, `STOPPING=1`) to the service manager's
 * `NOTIFY_SOCKET`, as systemd's sd_notify(3) does. Node has no unix datagram sockets, so the
 * two syscalls go through koffi. It returns false when there is no socket to notify.
 */
export function sdNotify(state: string, socketPath = process.env.NOTIFY_SOCKET): boolean {
  if (!socketPath) return false;
  const libc = koffi().load('libc.so.6');
  const socket = libc.func('int socket(int domain, int type, int protocol)');
  const sendto = libc.func('long sendto(int fd, const uint8_t *buf, size_t len, int flags, const uint8_t *addr, uint32_t addrlen)');
  const close = libc.func('int close(int fd)');
  const AF_UNIX = 1;
  const SOCK_DGRAM = 2;
  const SOCK_CLOEXEC = 0o2000000;
  // struct sockaddr_un: sa_family (u16) then sun_path[108]; a leading '@' means the abstract namespace.
  const path = Buffer.from(socketPath.startsWith('@') ? `\0${socketPath.slice(1)}` : socketPath);
  if (path.length > 107) throw new Error(`NOTIFY_SOCKET path too long: ${socketPath}`);
  const addr = Buffer.alloc(2 + path.length + (socketPath.startsWith('@') ? 0 : 1));
  addr.writeUInt16LE(AF_UNIX, 0);
  path.copy(addr, 2);
  const fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) throw new Error(`socket: errno ${koffi().errno()}`);
  try {
    const msg = Buffer.from(state);
    const n = sendto(fd, msg, msg.length, 0, addr, addr.length) as number;
    if (n < 0) throw new Error(`sendto ${socketPath}: errno ${koffi().errno()}`);
    return true;
  } finally {
    close(fd);
  }
}
