/**
 * The user-facing options of zarrTransforms(), and their validation: every bad value is refused with an error
 * naming the option and the value, before any stream exists or anything is written.
 */
import { resolveLayout, type ArrayLayout, type ChunkingOptions } from './chunking/layout.js';
import { pyramidShapes } from './downsample/levels.js';
import { DOWNSAMPLE_METHODS, type DownsampleMethod } from './downsample/reduce.js';
import { isDType, DTYPES, type DType } from './dtype.js';
import type { ZarrVersion } from './metadata/zarr.js';
import { isStore, type Store } from './stores/store.js';

export interface ZarrStreamOptions {
  /** A directory path (a FileSystemStore is made for it) or any Store. */
  store: string | Store;
  /** Default 3. */
  zarrVersion?: ZarrVersion;
  dtype: DType;
  width: number;
  height: number;
  /** Planes (channels) per frame; default 1. */
  planes?: number;
  chunking?: ChunkingOptions;
  /** Replace a non-empty store's contents. Default false: a non-empty store is an error. */
  overwrite?: boolean;
  /** Called with each adjustment made to the options (also emitted as 'warning' on the sink). */
  onWarning?: (message: string) => void;
  /**
   * Write a pyramid: level l (array `l`) halves x and y and pairs frames in time, until a level's frame fits in
   * one tile. Default false (one level). OME-NGFF metadata is written either way.
   */
  multiscale?: boolean;
  /** How each level is made from the one below; default 'mean'. */
  downsampleMethod?: DownsampleMethod;
  /** Size of a level-0 pixel in micrometers, for the OME-NGFF scale; default { x: 1, y: 1 }. */
  pixelScaleUm?: { x: number; y: number };
  /** The OME-NGFF image name; default "image". */
  name?: string;
}

/** A bad option: `field` is the option's name (dotted for nested ones), `value` what was given. */
export class OptionError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    expectation: string,
  ) {
    super(`${field} must be ${expectation}, got ${show(value)}`);
    this.name = 'OptionError';
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}

function integer(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new OptionError(field, value, min === 0 ? 'a non-negative integer' : `an integer >= ${min}`);
  }
  return value;
}

export interface ResolvedOptions {
  store: string | Store;
  zarrVersion: ZarrVersion;
  dtype: DType;
  /** One per pyramid level; level 0 first. */
  layouts: ArrayLayout[];
  multiscale: boolean;
  downsampleMethod: DownsampleMethod;
  pixelScaleUm: { x: number; y: number };
  name: string;
  overwrite: boolean;
  warnings: string[];
}

export function resolveOptions(options: ZarrStreamOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new OptionError('options', options, 'an object');
  const { store } = options;
  if (!(typeof store === 'string' && store.length > 0) && !isStore(store)) {
    throw new OptionError('store', store, 'a directory path or a Store (an object with set() and get())');
  }
  const zarrVersion = options.zarrVersion ?? 3;
  if (zarrVersion !== 2 && zarrVersion !== 3) throw new OptionError('zarrVersion', zarrVersion, '2 or 3');
  if (!isDType(options.dtype)) throw new OptionError('dtype', options.dtype, `one of ${DTYPES.join(', ')}`);
  const width = integer('width', options.width, 1);
  const height = integer('height', options.height, 1);
  const planes = integer('planes', options.planes ?? 1, 1);
  const chunking = options.chunking ?? {};
  if (chunking === null || typeof chunking !== 'object') throw new OptionError('chunking', chunking, 'an object');
  for (const field of ['tileWidth', 'tileHeight', 'tilePlanes'] as const) {
    if (chunking[field] !== undefined) integer(`chunking.${field}`, chunking[field], 0);
  }
  if (chunking.maxBytesPerChunk !== undefined) integer('chunking.maxBytesPerChunk', chunking.maxBytesPerChunk, 1);
  if (chunking.framesPerChunk !== undefined) integer('chunking.framesPerChunk', chunking.framesPerChunk, 1);
  const { layout, warnings } = resolveLayout({ width, height, planes }, options.dtype, chunking);
  const multiscale = options.multiscale ?? false;
  if (typeof multiscale !== 'boolean') throw new OptionError('multiscale', multiscale, 'true or false');
  const downsampleMethod = options.downsampleMethod ?? 'mean';
  if (!DOWNSAMPLE_METHODS.includes(downsampleMethod)) throw new OptionError('downsampleMethod', downsampleMethod, `one of ${DOWNSAMPLE_METHODS.join(', ')}`);
  const pixelScaleUm = options.pixelScaleUm ?? { x: 1, y: 1 };
  if (pixelScaleUm === null || typeof pixelScaleUm !== 'object') throw new OptionError('pixelScaleUm', pixelScaleUm, 'an object { x, y } in micrometers');
  for (const axis of ['x', 'y'] as const) {
    const value = pixelScaleUm[axis];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new OptionError(`pixelScaleUm.${axis}`, value, 'a positive number of micrometers');
  }
  const name = options.name ?? 'image';
  if (typeof name !== 'string') throw new OptionError('name', name, 'a string');
  // Every level keeps level 0's tile shape (clipped to its frame) and the same frames-per-chunk rule.
  const shapes = multiscale ? pyramidShapes(layout.frame, layout.chunk.width, layout.chunk.height) : [layout.frame];
  const layouts = shapes.map((shape, level) => (level === 0 ? layout : resolveLayout(shape, options.dtype, chunking, level).layout));
  // Chunks are single buffers (and single files); beyond 2 GiB neither Node nor most readers cope.
  if (layout.chunkBytes > 2 ** 31 - 1) {
    throw new OptionError('chunking.framesPerChunk', chunking.framesPerChunk ?? layout.chunk.frames, `small enough that a chunk stays below 2 GiB (chunk would be ${layout.chunkBytes} bytes)`);
  }
  if (options.overwrite !== undefined && typeof options.overwrite !== 'boolean') throw new OptionError('overwrite', options.overwrite, 'true or false');
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw new OptionError('onWarning', options.onWarning, 'a function');
  return {
    store,
    zarrVersion,
    dtype: options.dtype,
    layouts,
    multiscale,
    downsampleMethod,
    pixelScaleUm: { x: pixelScaleUm.x, y: pixelScaleUm.y },
    name,
    overwrite: options.overwrite ?? false,
    warnings,
  };
}
