/**
 * The array options, resolved into the layouts of every level: the (t, c, y, x) shorthand (width, height, planes,
 * chunking, shardChunks) or N-D `dimensions`. Each bad value is an OptionError naming its field; nothing is written.
 */
import { constants as bufferConstants } from 'node:buffer';
import { resolveLayout, type ArrayLayout } from './chunking/layout.js';
import { clipShardChunks, type ShardChunks } from './chunking/shards.js';
import { resolveDimensions, type ResolvedDimensions } from './chunking/dimensions.js';
import { dimensionLevels, type DimensionLevels } from './chunking/dimension-layouts.js';
import type { PairingSpec } from './downsample/pairing.js';
import { pyramidShapes } from './downsample/levels.js';
import { bytesPerPixel, type DType } from './dtype.js';
import type { ZarrVersion } from './metadata/zarr.js';
import { OptionError } from './option-error.js';
import type { ZarrStreamOptions } from './options.js';
import { formatBytes } from './util/format-bytes.js';

export interface ArrayLayouts {
  /** One per pyramid level, level 0 first. */
  layouts: ArrayLayout[];
  /** Adjustments made to the options, worth telling the user. */
  warnings: string[];
  /** With `dimensions`: the resolved dimensions and what each level halves and scales. */
  dimensions: { resolved: ResolvedDimensions; levels: DimensionLevels } | undefined;
  /** How each level's frames pair into the next (pairing[l] makes level l + 1); undefined: consecutive frames, t halved. */
  pairing: PairingSpec[] | undefined;
  /** Whether levels pair frames in time (halve t). */
  downsampleTime: boolean;
}

/** Options that describe the array in the shorthand's terms, which `dimensions` replaces. */
const SHORTHAND_FIELDS = ['width', 'height', 'planes', 'chunking', 'pixelScaleUm', 'shardChunks'] as const;

export function integer(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new OptionError(field, value, min === 0 ? 'a non-negative integer' : `an integer >= ${min}`);
  }
  return value;
}

export function resolveArrayLayouts(options: ZarrStreamOptions, zarrVersion: ZarrVersion, multiscale: boolean): ArrayLayouts {
  const dtype = options.dtype;
  const downsampleTime = options.downsampleTime;
  if (downsampleTime !== undefined && typeof downsampleTime !== 'boolean') throw new OptionError('downsampleTime', downsampleTime, 'true or false');
  const maxLevels = options.maxLevels === undefined ? 64 : integer('maxLevels', options.maxLevels, 1);
  if (options.dimensions === undefined) {
    if (options.acquisitionOrder !== undefined) throw new OptionError('acquisitionOrder', options.acquisitionOrder, 'given only with dimensions');
    return shorthandLayouts(options, dtype, zarrVersion, multiscale, downsampleTime ?? true, maxLevels);
  }
  const given = SHORTHAND_FIELDS.find((field) => options[field] !== undefined);
  if (given) {
    throw new OptionError(given, options[given], 'absent with dimensions', `${given} is given with dimensions: describe the array in dimensions alone (sizes, chunks, shards, units and scales per dimension)`);
  }
  // `frames` counts 2-D frames here; chunks are given per dimension, so it is only checked.
  if (options.frames !== undefined) integer('frames', options.frames, 0);
  const resolved = resolveDimensions(options.dimensions, options.acquisitionOrder);
  const { all } = resolved;
  const hasZ = all.some((d, i) => i > 0 && i < all.length - 2 && d.kind === 'space' && d.size > 1);
  if (downsampleTime && hasZ && multiscale) {
    throw new OptionError('downsampleTime', true, 'false with a z dimension', 'downsampleTime with a space dimension besides y and x is not supported: levels halve z, y and x (2x2x2 in space); set downsampleTime false');
  }
  const frameBytes = all.at(-1)!.size * all.at(-2)!.size * bytesPerPixel(dtype);
  if (frameBytes > bufferConstants.MAX_LENGTH) throw new OptionError('dimensions', options.dimensions, 'smaller frames', `a frame (y x) of ${formatBytes(frameBytes)} is more than the ${formatBytes(bufferConstants.MAX_LENGTH)} a buffer can hold`);
  const levels = dimensionLevels(resolved, dtype, { multiscale, downsampleTime: downsampleTime ?? false, maxLevels });
  const shards = all.every((d) => d.shard !== undefined) ? all.map((d) => d.shard!) : undefined;
  if (shards && zarrVersion !== 3) throw new OptionError('dimensions[0].shard', shards[0], 'absent with zarrVersion 2 (sharding is a Zarr v3 codec; use zarrVersion 3)');
  const layouts = levels.layouts.map((layout) => (shards ? { ...layout, shardChunks: clipShardChunks(layout, shards) } : layout));
  checkChunkBytes(layouts[0]!, 'dimensions', options.dimensions);
  return { layouts, warnings: [], dimensions: { resolved, levels }, pairing: levels.pairing, downsampleTime: levels.pairing.some((spec) => spec.halved === 0) };
}

function shorthandLayouts(options: ZarrStreamOptions, dtype: DType, zarrVersion: ZarrVersion, multiscale: boolean, downsampleTime: boolean, maxLevels: number): ArrayLayouts {
  const width = integer('width', options.width, 1);
  const height = integer('height', options.height, 1);
  const planes = integer('planes', options.planes ?? 1, 1);
  // A frame is one buffer: beyond Node's largest, no source can even make one.
  const frameBytes = width * height * planes * bytesPerPixel(dtype);
  if (frameBytes > bufferConstants.MAX_LENGTH) {
    const field = planes >= Math.max(width, height) ? 'planes' : width >= height ? 'width' : 'height';
    throw new OptionError(
      field,
      options[field],
      'smaller',
      `a frame of ${width} x ${height} x ${planes} ${dtype} pixels is ${formatBytes(frameBytes)}, more than the ${formatBytes(bufferConstants.MAX_LENGTH)} a buffer can hold: ${field} must be smaller`,
    );
  }
  const chunking = options.chunking ?? {};
  if (chunking === null || typeof chunking !== 'object') throw new OptionError('chunking', chunking, 'an object');
  for (const field of ['tileWidth', 'tileHeight', 'tilePlanes'] as const) {
    if (chunking[field] !== undefined) integer(`chunking.${field}`, chunking[field], 0);
  }
  if (chunking.maxBytesPerChunk !== undefined) integer('chunking.maxBytesPerChunk', chunking.maxBytesPerChunk, 1);
  if (chunking.framesPerChunk !== undefined) integer('chunking.framesPerChunk', chunking.framesPerChunk, 1);
  const expectedFrames = options.frames === undefined ? undefined : integer('frames', options.frames, 0);
  const { layout, warnings } = resolveLayout({ width, height, planes }, dtype, chunking, 0, expectedFrames);
  // Every level keeps level 0's tile shape (clipped to its frame) and the same frames-per-chunk rule.
  const shapes = (multiscale ? pyramidShapes(layout.frame, layout.chunk.width, layout.chunk.height) : [layout.frame]).slice(0, maxLevels);
  // Level l pairs frames in time l times: ceil(frames / 2^l) of them (all of them without time pairing).
  const levelFrames = (level: number): number | undefined => (expectedFrames === undefined ? undefined : downsampleTime ? Math.ceil(expectedFrames / 2 ** level) : expectedFrames);
  const shardChunks = resolveShardChunks(options.shardChunks, zarrVersion);
  const layouts = shapes
    .map((shape, level) => (level === 0 ? layout : resolveLayout(shape, dtype, chunking, level, levelFrames(level)).layout))
    .map((level) => (shardChunks ? { ...level, shardChunks: clipShardChunks(level, shardChunks) } : level));
  const [field, value] = chunking.framesPerChunk === undefined ? ['chunking.maxBytesPerChunk', chunking.maxBytesPerChunk] : ['chunking.framesPerChunk', chunking.framesPerChunk];
  checkChunkBytes(layout, field, value);
  // Without time pairing every frame of a level is reduced in y and x alone into the next.
  const pairing = downsampleTime ? undefined : layouts.slice(1).map(() => ({ sizes: [0], acquisition: [0], halved: -1 }));
  return { layouts, warnings, dimensions: undefined, pairing, downsampleTime };
}

/** Chunks are single buffers (and single files); beyond 2 GiB neither Node nor most readers cope. */
function checkChunkBytes(layout: ArrayLayout, field: string, value: unknown): void {
  if (layout.chunkBytes > 2 ** 31 - 1) throw new OptionError(field, value, `small enough that a chunk stays below 2 GiB (chunk would be ${layout.chunkBytes} bytes)`);
}

/** The shardChunks option: four integers >= 1, and only for Zarr v3 (sharding is a v3 codec). */
function resolveShardChunks(value: unknown, zarrVersion: ZarrVersion): ShardChunks | undefined {
  if (value === undefined) return undefined;
  const expected = 'four integers >= 1: chunks per shard along t, c, y, x';
  if (!Array.isArray(value) || value.length !== 4 || !value.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1)) throw new OptionError('shardChunks', value, expected);
  if (zarrVersion !== 3) throw new OptionError('shardChunks', value, 'absent with zarrVersion 2 (sharding is a Zarr v3 codec; use zarrVersion 3)');
  return [value[0], value[1], value[2], value[3]];
}
