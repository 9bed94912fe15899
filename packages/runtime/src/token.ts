import { PluginType, createToken } from '@ctrd/plugin';
import type { PlatformRuntime as PlatformRuntimeType } from './types.js';

/** PlatformRuntime is the task runtime contract (see the interface in `types.ts`). */
export type PlatformRuntime = PlatformRuntimeType;

/** PlatformRuntime is also the token of the `io.containerd.runtime.v2` plugin type. */
export const PlatformRuntime = createToken<PlatformRuntime>(PluginType.RuntimeV2);
