/**
 * Mount describes one filesystem mount the way containerd's `types.Mount` does: the filesystem
 * `type` (`bind`, `overlay`, `btrfs`, …), its `source`, and `options` in mount(8) syntax, where
 * flag words (`ro`, `rbind`, `nosuid`, …) become mount flags and the rest is filesystem data
 * (`lowerdir=…`, `subvolid=…`). `target` is only set when the mount records where it was made.
 */
export interface Mount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}
