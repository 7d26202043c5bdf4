/**
 * Pure shard arithmetic for Zarr v3 sharding (`sharding_indexed`): which shard a chunk belongs to, its slot in the
 * shard's index, and how many chunks a shard holds at the array's edges. A shard is counted in chunks along each
 * dimension, so its shape is a multiple of the chunk shape by construction. No I/O here.
 */
import type { ArrayLayout } from './layout.js';
import { chunkShapeOf, rowGridOf } from './placement.js';

/** Chunks per shard along each dimension, storage order ((t, c, y, x) for the shorthand). */
export type ShardChunks = readonly number[];

type Coords = readonly number[];

/**
 * A level's shard, counted in chunks: along every dimension but t no larger than the level's chunk grid, so a level
 * smaller than a shard gets a shard clipped to it (no index slots for chunks that can never exist). Along t it stays
 * as asked.
 */
export function clipShardChunks(layout: ArrayLayout, shardChunks: ShardChunks): number[] {
  const grid = rowGridOf(layout);
  return shardChunks.map((n, i) => (i === 0 ? n : Math.min(n, grid[i - 1]!)));
}

/** The shard's shape in elements: the v3 chunk grid of a sharded array. */
export function shardShape(layout: ArrayLayout, shard: ShardChunks): number[] {
  const chunk = chunkShapeOf(layout);
  return shard.map((n, i) => n * chunk[i]!);
}

/** Slots of a shard's index: every chunk position it can hold. */
export function chunksPerShard(shard: ShardChunks): number {
  return shard.reduce((a, b) => a * b, 1);
}

/** The shard (shard coordinates, which are its key's) holding the chunk at `coords`. */
export function shardOf(shard: ShardChunks, coords: Coords): number[] {
  return shard.map((n, i) => Math.floor(coords[i]! / n));
}

/** The chunk's slot in its shard's index: C order over the shard's chunk positions. */
export function slotInShard(shard: ShardChunks, coords: Coords): number {
  let slot = 0;
  for (let i = 0; i < shard.length; i++) slot = slot * shard[i]! + (coords[i]! % shard[i]!);
  return slot;
}

/** Chunks of one chunk row that fall in shard `shardCoords` (fewer than the shard's slots at a ragged edge). */
export function shardChunksPerChunkRow(layout: ArrayLayout, shard: ShardChunks, shardCoords: Coords): number {
  const grid = rowGridOf(layout);
  return grid.reduce((product, extent, i) => product * Math.max(0, Math.min(shard[i + 1]!, extent - shardCoords[i + 1]! * shard[i + 1]!)), 1);
}

/** Shards per shard row: the shard grid over every dimension but t. */
export function shardsPerRow(layout: ArrayLayout, shard: ShardChunks): number {
  return rowGridOf(layout).reduce((product, extent, i) => product * Math.ceil(extent / shard[i + 1]!), 1);
}

/**
 * What one "row" is to the sink's accounting: the values it must store before the frames of a row count. Unsharded,
 * a chunk row (every chunk of one chunk step along t, framesPerChunk frames); sharded, a shard row (a shard per
 * shard-grid position, shardChunks[0] chunk rows of frames).
 */
export function rowGeometry(layout: ArrayLayout): { framesPerRow: number; valuesPerRow: number; chunksPerRow: number } {
  const shard = layout.shardChunks;
  if (!shard) return { framesPerRow: layout.chunk.frames, valuesPerRow: layout.chunksPerRow, chunksPerRow: layout.chunksPerRow };
  return { framesPerRow: shard[0]! * layout.chunk.frames, valuesPerRow: shardsPerRow(layout, shard), chunksPerRow: shard[0]! * layout.chunksPerRow };
}
