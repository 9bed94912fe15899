/**
 * Syscalls the default profile refuses with EPERM. ctrd's default profile allows everything
 * else (containerd's default is an allowlist of ~350 syscalls that denies the rest); this
 * denylist covers the same dangerous families: kernel modules and kexec, clock setting,
 * mount and namespace manipulation, keyrings, tracing other processes, BPF and perf,
 * NUMA policy, swap, reboot and obsolete interfaces. Names unknown to the kernel's
 * architecture are ignored by runc.
 */
const DENIED = [
  'acct', 'add_key', 'bpf', 'clock_adjtime', 'clock_settime', 'create_module', 'delete_module',
  'finit_module', 'get_kernel_syms', 'get_mempolicy', 'init_module', 'ioperm', 'iopl', 'kcmp',
  'kexec_file_load', 'kexec_load', 'keyctl', 'lookup_dcookie', 'mbind', 'mount', 'move_mount',
  'move_pages', 'name_to_handle_at', 'nfsservctl', 'open_by_handle_at', 'open_tree', 'fsopen',
  'fsconfig', 'fsmount', 'fspick', 'perf_event_open', 'pivot_root', 'process_vm_readv',
  'process_vm_writev', 'ptrace', 'query_module', 'quotactl', 'reboot', 'request_key',
  'set_mempolicy', 'setns', 'settimeofday', 'stime', 'swapon', 'swapoff', 'sysfs', '_sysctl',
  'umount', 'umount2', 'unshare', 'uselib', 'userfaultfd', 'ustat', 'vm86', 'vm86old',
] as const;

/** Syscalls a granted capability makes legitimate again, as containerd's profile allows them. */
const BY_CAPABILITY: Record<string, readonly string[]> = {
  CAP_SYS_ADMIN: ['mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'quotactl', 'name_to_handle_at', 'lookup_dcookie', 'perf_event_open', 'bpf', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree'],
  CAP_SYS_PTRACE: ['ptrace', 'kcmp', 'process_vm_readv', 'process_vm_writev'],
  CAP_SYS_MODULE: ['init_module', 'finit_module', 'delete_module'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_adjtime'],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'move_pages'],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
};

/** SeccompProfile is the `linux.seccomp` object of an OCI runtime spec. */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number }[];
}

function architectures(arch: string): string[] {
  switch (arch) {
    case 'x64': return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
    case 'arm64': return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
    case 'arm': return ['SCMP_ARCH_ARM'];
    case 'ppc64': return ['SCMP_ARCH_PPC64LE'];
    case 's390x': return ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'];
    default: return [];
  }
}

/**
 * defaultSeccompProfile returns ctrd's default seccomp profile: allow by default, refuse a
 * fixed list of dangerous syscalls with EPERM, except those `capabilities` (the process's
 * bounding set) legitimately need.
 */
export function defaultSeccompProfile(capabilities: readonly string[] = [], arch: string = process.arch): SeccompProfile {
  const granted = new Set<string>();
  for (const cap of capabilities) for (const sc of BY_CAPABILITY[cap] ?? []) granted.add(sc);
  const names = DENIED.filter((n) => !granted.has(n));
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: architectures(arch),
    syscalls: names.length ? [{ names, action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] : [],
  };
}
