import { packAny, TypeUrls } from '@ctrd/api';
import { Options as RuncOptions } from '@ctrd/api/gen/containerd/runtime/v2/runc/options/oci.js';
import { InvalidArgumentError } from '@ctrd/errdefs';
import type { Any } from '@ctrd/runtime';

const BOOL = new Set(['no_pivot_root', 'no_new_keyring', 'systemd_cgroup']);
const INT = new Set(['io_uid', 'io_gid']);
const STR: Record<string, keyof RuncOptions> = {
  shim_cgroup: 'shimCgroup',
  binary_name: 'binaryName',
  root: 'root',
  criu_path: 'criuPath',
  criu_image_path: 'criuImagePath',
  criu_work_path: 'criuWorkPath',
};
const CAMEL: Record<string, keyof RuncOptions> = {
  no_pivot_root: 'noPivotRoot',
  no_new_keyring: 'noNewKeyring',
  systemd_cgroup: 'systemdCgroup',
  io_uid: 'ioUid',
  io_gid: 'ioGid',
};

/**
 * runcOptionsFromConfig turns a runtime's `options` table (`binary_name = "runc"`,
 * `systemd_cgroup = "true"`, …, keys as in containerd's runc options) into the
 * `containerd.runc.v1.Options` Any the runc-compatible shims read. An empty table gives undefined.
 *
 * @throws InvalidArgumentError for an unknown key or a malformed value.
 */
export function runcOptionsFromConfig(table: Readonly<Record<string, string>> | undefined): Any | undefined {
  if (table === undefined || Object.keys(table).length === 0) return undefined;
  const opts = RuncOptions.fromPartial({}) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(table)) {
    if (BOOL.has(k)) {
      if (v !== 'true' && v !== 'false') throw new InvalidArgumentError(`runtime option ${k} must be "true" or "false"`);
      opts[CAMEL[k]!] = v === 'true';
    } else if (INT.has(k)) {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`runtime option ${k} must be a number`);
      opts[CAMEL[k]!] = Number(v);
    } else if (STR[k] !== undefined) {
      opts[STR[k]] = v;
    } else {
      throw new InvalidArgumentError(`unknown runtime option "${k}"`);
    }
  }
  const any = packAny(TypeUrls.RuncOptions, RuncOptions, opts as unknown as RuncOptions);
  return { typeUrl: any.typeUrl, value: new Uint8Array(any.value) };
}
