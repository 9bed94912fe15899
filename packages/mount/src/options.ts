/** MountFlags holds the Linux `MS_*` flag values that mount options translate to. */
export const MountFlags = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

const F = MountFlags;

/** PROPAGATION_FLAGS are the flags that change propagation and need a mount call of their own. */
export const PROPAGATION_FLAGS = F.SHARED | F.PRIVATE | F.SLAVE | F.UNBINDABLE;

// Each word either sets a flag or clears it, as util-linux reads them.
const WORDS: Readonly<Record<string, { clear: boolean; flag: number }>> = {
  async: { clear: true, flag: F.SYNCHRONOUS },
  atime: { clear: true, flag: F.NOATIME },
  bind: { clear: false, flag: F.BIND },
  defaults: { clear: false, flag: 0 },
  dev: { clear: true, flag: F.NODEV },
  diratime: { clear: true, flag: F.NODIRATIME },
  dirsync: { clear: false, flag: F.DIRSYNC },
  exec: { clear: true, flag: F.NOEXEC },
  mand: { clear: false, flag: F.MANDLOCK },
  noatime: { clear: false, flag: F.NOATIME },
  nodev: { clear: false, flag: F.NODEV },
  nodiratime: { clear: false, flag: F.NODIRATIME },
  noexec: { clear: false, flag: F.NOEXEC },
  nomand: { clear: true, flag: F.MANDLOCK },
  norelatime: { clear: true, flag: F.RELATIME },
  nostrictatime: { clear: true, flag: F.STRICTATIME },
  nosuid: { clear: false, flag: F.NOSUID },
  rbind: { clear: false, flag: F.BIND | F.REC },
  relatime: { clear: false, flag: F.RELATIME },
  remount: { clear: false, flag: F.REMOUNT },
  ro: { clear: false, flag: F.RDONLY },
  rw: { clear: true, flag: F.RDONLY },
  strictatime: { clear: false, flag: F.STRICTATIME },
  suid: { clear: true, flag: F.NOSUID },
  sync: { clear: false, flag: F.SYNCHRONOUS },
  private: { clear: false, flag: F.PRIVATE },
  rprivate: { clear: false, flag: F.PRIVATE | F.REC },
  shared: { clear: false, flag: F.SHARED },
  rshared: { clear: false, flag: F.SHARED | F.REC },
  slave: { clear: false, flag: F.SLAVE },
  rslave: { clear: false, flag: F.SLAVE | F.REC },
  unbindable: { clear: false, flag: F.UNBINDABLE },
  runbindable: { clear: false, flag: F.UNBINDABLE | F.REC },
};

/** ParsedOptions is a mount's option list split into flags, filesystem data and the loop request. */
export interface ParsedOptions {
  flags: number;
  data: string;
  loop: boolean;
}

/**
 * parseMountOptions splits mount(8)-style options into `MS_*` flags and the comma-joined data
 * string the filesystem receives; later words override earlier ones (`ro,rw` is read-write).
 */
export function parseMountOptions(options: readonly string[]): ParsedOptions {
  let flags = 0;
  let loop = false;
  const data: string[] = [];
  for (const o of options) {
    const w = WORDS[o];
    if (w !== undefined && w.flag !== 0) {
      flags = w.clear ? flags & ~w.flag : flags | w.flag;
    } else if (o === 'loop') {
      loop = true;
    } else if (w === undefined) {
      data.push(o);
    }
  }
  return { flags, data: data.join(','), loop };
}

/** optionsSize is the summed length of the option strings, as containerd measures it. */
export function optionsSize(options: readonly string[]): number {
  return options.reduce((n, o) => n + o.length, 0);
}

function longestCommonPrefix(strs: readonly string[]): string {
  if (strs.length === 0) return '';
  let min = strs[0]!;
  let max = strs[0]!;
  for (const s of strs) {
    if (s < min) min = s;
    if (s > max) max = s;
  }
  let i = 0;
  while (i < min.length && i < max.length && min[i] === max[i]) i++;
  return min.slice(0, i);
}

/**
 * compactLowerdir shortens an overlay `lowerdir=` option that would not fit in a page: it finds
 * the directory all lower layers share and returns it as `chdir` with the layers made relative to
 * it, so the mount can be made from that working directory. When nothing can be shared it returns
 * the options unchanged and `chdir` empty.
 */
export function compactLowerdir(options: readonly string[]): { chdir: string; options: string[] } {
  const idx = options.findIndex((o) => o.startsWith('lowerdir='));
  if (idx === -1) return { chdir: '', options: [...options] };
  const dirs = options[idx]!.slice('lowerdir='.length).split(':');
  if (dirs.length === 1) return { chdir: '', options: [...options] };
  const prefix = longestCommonPrefix(dirs);
  if (prefix === '') return { chdir: '', options: [...options] };
  // the directory part of the prefix: everything before its last slash
  const slash = prefix.lastIndexOf('/');
  const common = slash > 0 ? prefix.slice(0, slash) : '';
  if (common === '') return { chdir: '', options: [...options] };
  const base = `${common}/`;
  const rest = options.filter((_, i) => i !== idx);
  rest.push(`lowerdir=${dirs.map((d) => d.slice(base.length)).join(':')}`);
  return { chdir: base, options: rest };
}
