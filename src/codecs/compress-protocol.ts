/**
 * Messages between CompressPool and its workers. Nothing is copied: the raw chunk's ArrayBuffer is transferred
 * (or shared, when it is a SharedArrayBuffer) and the output buffer is a pooled SharedArrayBuffer, shared.
 */
import type { BloscSettings } from './blosc-settings.js';
import type { EngineName } from './engine.js';

export interface WorkerInit {
  engine: EngineName;
}

export interface CompressJob {
  id: number;
  /** The raw chunk's whole buffer (transferred, or shared) and the chunk's place in it. */
  raw: ArrayBuffer | SharedArrayBuffer;
  offset: number;
  length: number;
  /** Where to write the compressed chunk: at least length + 16 bytes, shared with the pool. */
  out: SharedArrayBuffer;
  settings: BloscSettings;
  /**
   * The output must be a chunk of blocks (a segment to be joined with others), never a plain copy: where the engine
   * made one (numcodecs, on incompressible input), the worker writes the blocks stored instead.
   */
  blocked: boolean;
}

export type CompressReply =
  | { id: number; raw: ArrayBuffer | SharedArrayBuffer; bytes: number }
  | { id: number; raw: ArrayBuffer | SharedArrayBuffer; error: string };
