import type { LayerApplyResult } from '@ctrd/diff';
import type { ErrorCode } from '@ctrd/errdefs';

/** ApplyWorkerOptions are the apply options that cross to the worker (the signal stays behind). */
export interface ApplyWorkerOptions {
  mediaType: string;
  overlay: boolean;
  expectedDigest?: string;
  digestVerified?: boolean;
  maxUncompressedSize?: number;
  parents?: string[];
}

/** ToWorker are the messages the main thread sends an apply worker. */
export type ToWorker =
  | { type: 'start'; id: number; target: string; opts: ApplyWorkerOptions }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'fail'; id: number; message: string }
  | { type: 'abort'; id: number };

/** ToMain are the messages an apply worker sends back. */
export type ToMain =
  | { type: 'ack'; id: number; bytes: number }
  | { type: 'result'; id: number; result: LayerApplyResult }
  | { type: 'error'; id: number; code: ErrorCode; message: string; plain: boolean };
