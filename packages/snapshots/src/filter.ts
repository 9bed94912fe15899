import type { Adaptor } from '@ctrd/filters';
import { adaptLabels } from '@ctrd/filters';
import { type Info, kindName } from './snapshotter.js';

/**
 * adaptSnapshot exposes a snapshot's info to filters: `kind` (view, active, committed), `name`,
 * `parent` (`''` when none, as containerd reports it) and `labels.<key>`.
 */
export function adaptSnapshot(info: Info): Adaptor {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case 'kind':
        return fieldpath.length === 1 ? kindName(info.kind) : undefined;
      case 'name':
        return fieldpath.length === 1 ? info.name : undefined;
      case 'parent':
        return fieldpath.length === 1 ? (info.parent ?? '') : undefined;
      case 'labels':
        return adaptLabels(info.labels, fieldpath.slice(1));
      default:
        return undefined;
    }
  };
}
