import { arch } from 'node:os';

/** hostPlatform returns the OCI platform of this host (`linux/amd64`, `linux/arm64/v8` …). */
export function hostPlatform(): { os: string; architecture: string; variant?: string } {
  const a = arch();
  switch (a) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm':
      return { os: 'linux', architecture: 'arm', variant: 'v7' };
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    default:
      return { os: 'linux', architecture: a };
  }
}
