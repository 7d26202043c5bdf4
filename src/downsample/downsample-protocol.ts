/** Messages between the Downsampler and its worker thread. */
import type { DType } from '../dtype.js';
import type { FrameShape } from '../chunking/layout.js';
import type { DownsampleMethod } from './reduce.js';
import type { PairingSpec } from './pairing.js';

export interface DownsampleWorkerInit {
  shapes: FrameShape[];
  dtype: DType;
  method: DownsampleMethod;
  /** Per level transition; absent: consecutive frames pair (see PyramidOptions). */
  pairing?: PairingSpec[];
}

/** A level-0 frame in a shared slot (lent until the reply), or the end of the stream. */
export type DownsampleRequest = { kind: 'frame'; id: number; slot: SharedArrayBuffer; byteLength: number } | { kind: 'finish'; id: number };

export interface DownsampleReply {
  kind: 'frame' | 'finish' | 'error';
  id: number;
  /** The pyramid frames this request completed, in emission order; buffers transferred. */
  frames: Array<{ level: number; t: number; buffer: ArrayBuffer }>;
  message?: string;
}
