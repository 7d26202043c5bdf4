/**
 * Pure chunk arithmetic: from a frame shape, a dtype and the user's chunking options to the shape of every
 * chunk, as the seed driver (acquire's Zarr storage) defined it. No I/O here.
 */
import { bytesPerPixel, type DType } from '../dtype.js';

export const MIB = 2 ** 20;
/** The seed driver's floor for maxBytesPerChunk: smaller chunks make too many files to be worth it. */
export const MIN_MAX_BYTES_PER_CHUNK = 16 * MIB;
export const DEFAULT_MAX_BYTES_PER_CHUNK = 64 * MIB;

export interface FrameShape {
  width: number;
  height: number;
  planes: number;
}

export interface ChunkingOptions {
  /** Tile width in pixels; 0 or more than the frame width means the whole width. */
  tileWidth?: number;
  tileHeight?: number;
  tilePlanes?: number;
  /** Bytes of raw pixels a chunk may hold; raised to 16 MiB when smaller. Default 64 MiB. */
  maxBytesPerChunk?: number;
  /** Overrides the frames-per-chunk rule. */
  framesPerChunk?: number;
}

/** The shape of one 4-D (t, c, y, x) array of a dataset and of its chunks. */
export interface ArrayLayout {
  /** Pyramid level; 0 is full resolution. The array lives at path `${level}`. */
  level: number;
  path: string;
  dtype: DType;
  bytesPerPixel: number;
  frame: FrameShape;
  /** Chunk shape (t, c, y, x) as frames, planes, height, width. */
  chunk: { frames: number; planes: number; height: number; width: number };
  /** Number of tiles along c, y, x: the chunk grid of one frame. */
  grid: { planes: number; height: number; width: number };
  tilesPerFrame: number;
  /** Bytes of one (planes, height, width) tile, padded: one frame's slab of a chunk. */
  tileBytes: number;
  chunkBytes: number;
  /** Zarr v3 sharding: chunks per shard along (t, c, y, x), clipped to the level's chunk grid in space; unset: no shards. */
  shardChunks?: readonly [number, number, number, number];
}

export interface ResolvedLayout {
  layout: ArrayLayout;
  /** Adjustments made to the options, worth telling the user (emitted as 'warning' events). */
  warnings: string[];
}

/** A tile extent of 0, or one beyond the frame, means the whole frame extent. */
export function clampTile(tile: number | undefined, extent: number): number {
  return !tile || tile > extent ? extent : tile;
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/** framesPerChunk = max(1, floor(maxBytesPerChunk / bytesPerTile)), the seed driver's rule. */
export function framesPerChunkFor(maxBytesPerChunk: number, tileBytes: number): number {
  return Math.max(1, Math.floor(maxBytesPerChunk / tileBytes));
}

/**
 * The layout of one level. `expectedFrames`, when the frame count is known, caps the frames per chunk that the
 * byte rule derives, so a short run is not padded to a chunk made for a long one (an explicit framesPerChunk stays).
 */
export function resolveLayout(frame: FrameShape, dtype: DType, options: ChunkingOptions = {}, level = 0, expectedFrames?: number): ResolvedLayout {
  const warnings: string[] = [];
  const bpp = bytesPerPixel(dtype);
  const chunkWidth = clampTile(options.tileWidth, frame.width);
  const chunkHeight = clampTile(options.tileHeight, frame.height);
  const chunkPlanes = clampTile(options.tilePlanes, frame.planes);
  const tileBytes = chunkWidth * chunkHeight * chunkPlanes * bpp;
  let maxBytes = options.maxBytesPerChunk ?? DEFAULT_MAX_BYTES_PER_CHUNK;
  if (maxBytes < MIN_MAX_BYTES_PER_CHUNK) {
    if (level === 0) {
      warnings.push(`maxBytesPerChunk ${maxBytes} is below the 16 MiB minimum; raised to ${MIN_MAX_BYTES_PER_CHUNK}`);
    }
    maxBytes = MIN_MAX_BYTES_PER_CHUNK;
  }
  const frames = options.framesPerChunk ?? Math.min(framesPerChunkFor(maxBytes, tileBytes), Math.max(1, expectedFrames ?? Infinity));
  const grid = {
    planes: ceilDiv(frame.planes, chunkPlanes),
    height: ceilDiv(frame.height, chunkHeight),
    width: ceilDiv(frame.width, chunkWidth),
  };
  return {
    layout: {
      level,
      path: String(level),
      dtype,
      bytesPerPixel: bpp,
      frame: { ...frame },
      chunk: { frames, planes: chunkPlanes, height: chunkHeight, width: chunkWidth },
      grid,
      tilesPerFrame: grid.planes * grid.height * grid.width,
      tileBytes,
      chunkBytes: tileBytes * frames,
    },
    warnings,
  };
}

/** The chunk key's coordinates: (t, c, y, x) chunk indices of frame t's tile (c, y, x). */
export function chunkCoords(layout: ArrayLayout, t: number, tile: readonly [number, number, number]): [number, number, number, number] {
  return [Math.floor(t / layout.chunk.frames), tile[0], tile[1], tile[2]];
}

/** Linear index of a tile within its frame's grid, C order over (c, y, x). */
export function tileOrdinal(layout: ArrayLayout, tile: readonly [number, number, number]): number {
  return (tile[0] * layout.grid.height + tile[1]) * layout.grid.width + tile[2];
}
