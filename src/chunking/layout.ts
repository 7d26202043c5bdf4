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

/** A dimension between the append dimension and the frame's own (in 5-D: c and z), storage order. */
export interface OuterDim {
  size: number;
  chunk: number;
}

/**
 * How 2-D frames are positioned in an N-D array (the `dimensions` option): along the outer dimensions, in an
 * acquisition order. Without it, the (t, c, y, x) shorthand: a frame is one step of t, its planes are c.
 */
export interface FramePositions {
  outer: readonly OuterDim[];
  /** Acquisition order of [append, ...outer], indices, outermost first; 0 (the append dimension) first. */
  acquisition: readonly number[];
  /** Storage names of every dimension, outermost first. */
  names: readonly string[];
}

/**
 * The shape of one array of a dataset and of its chunks: (t, c, y, x) for the shorthand, or N-D
 * (append, ...outer, y, x) with `dimensions`. Frames are (planes, y, x) slabs; a chunk holds `slotsPerChunk` of them.
 */
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
  /** Zarr v3 sharding: chunks per shard along each dimension, clipped to the level's chunk grid but along t; unset: no shards. */
  shardChunks?: readonly number[];
  /** Dimension names, storage order: `dimension_names`. */
  names: readonly string[];
  /** Dimensions between the append dimension and the frame's (empty for the shorthand). */
  outer: readonly OuterDim[];
  /** Acquisition order of [append, ...outer] (indices, 0 first): frame k's position is k in this mixed radix. */
  acquisition: readonly number[];
  /** Whether the frame's planes are a stored dimension (the shorthand's c); with `dimensions` frames are 2-D. */
  planesStored: boolean;
  /** Frames per step of the append dimension: the product of the outer sizes (1 for the shorthand). */
  framesPerStep: number;
  /** Frame slabs per chunk: chunk.frames times the outer chunk extents. */
  slotsPerChunk: number;
  /** Chunks of a chunk row (one chunk along the append dimension): the outer chunk grid times the frame's tiles. */
  chunksPerRow: number;
  /** Chunks open at once as frames arrive in acquisition order (between tilesPerFrame and chunksPerRow). */
  openChunks: number;
  /** Whether each chunk's slabs arrive in increasing order, so chunks stream; otherwise they fill whole in memory. */
  slotsInOrder: boolean;
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
export function resolveLayout(frame: FrameShape, dtype: DType, options: ChunkingOptions = {}, level = 0, expectedFrames?: number, positions?: FramePositions): ResolvedLayout {
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
  const tilesPerFrame = grid.planes * grid.height * grid.width;
  const outer = positions?.outer.map((d) => ({ size: d.size, chunk: Math.min(d.chunk, d.size) })) ?? [];
  const extents = [frames, ...outer.map((d) => d.chunk)];
  const slotsPerChunk = extents.reduce((a, b) => a * b, 1);
  const acquisition = positions?.acquisition ?? [0];
  return {
    layout: {
      level,
      path: String(level),
      dtype,
      bytesPerPixel: bpp,
      frame: { ...frame },
      chunk: { frames, planes: chunkPlanes, height: chunkHeight, width: chunkWidth },
      grid,
      tilesPerFrame,
      tileBytes,
      chunkBytes: tileBytes * slotsPerChunk,
      names: positions?.names ?? SHORTHAND_NAMES,
      outer,
      acquisition,
      planesStored: !positions,
      framesPerStep: outer.reduce((a, d) => a * d.size, 1),
      slotsPerChunk,
      chunksPerRow: tilesPerFrame * outer.reduce((a, d) => a * ceilDiv(d.size, d.chunk), 1),
      openChunks: tilesPerFrame * openOuterChunks(outer, extents, acquisition),
      slotsInOrder: slotsInOrder(extents, acquisition),
    },
    warnings,
  };
}

export const SHORTHAND_NAMES = ['t', 'c', 'y', 'x'] as const;

/**
 * Outer chunks open at once while frames arrive in acquisition order. Along a dimension, every chunk stays open
 * once a dimension acquired outside it spans more than one step of its chunk (the inner one cycles through all
 * its chunks before the outer one's chunk is done); otherwise one chunk at a time.
 */
function openOuterChunks(outer: readonly OuterDim[], extents: readonly number[], acquisition: readonly number[]): number {
  let open = 1;
  let spanning = false;
  for (const index of acquisition) {
    if (index > 0 && spanning) open *= ceilDiv(outer[index - 1]!.size, outer[index - 1]!.chunk);
    if (extents[index]! > 1) spanning = true;
  }
  return open;
}

/**
 * A chunk's slabs are C ordered over its extents in storage order; they arrive in increasing order exactly when the
 * acquisition order, restricted to dimensions a chunk spans more than one step of, is the storage order.
 */
function slotsInOrder(extents: readonly number[], acquisition: readonly number[]): boolean {
  const spanned = acquisition.filter((index) => extents[index]! > 1);
  return spanned.every((index, i) => i === 0 || index > spanned[i - 1]!);
}


/** Linear index of a tile within its frame's grid, C order over (c, y, x). */
export function tileOrdinal(layout: ArrayLayout, tile: readonly [number, number, number]): number {
  return (tile[0] * layout.grid.height + tile[1]) * layout.grid.width + tile[2];
}
