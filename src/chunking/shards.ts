/**
 * Pure shard arithmetic for Zarr v3 sharding (`sharding_indexed`): which shard a chunk belongs to, its slot in the
 * shard's index, and how many chunks a shard holds at the array's edges. A shard is counted in chunks along each
 * dimension, so its shape is a multiple of the chunk shape by construction. No I/O here.
 */
import type { ArrayLayout } from './layout.js';

/** Chunks per shard along (t, c, y, x). */
export type ShardChunks = readonly [number, number, number, number];

type Coords = readonly [number, number, number, number];

/**
 * A level's shard, counted in chunks: along c, y and x no larger than the level's chunk grid, so a level smaller than
 * a shard gets a shard clipped to it (no index slots for chunks that can never exist). Along t it stays as asked.
 */
export function clipShardChunks(layout: ArrayLayout, shardChunks: ShardChunks): [number, number, number, number] {
  const { grid } = layout;
  return [shardChunks[0], Math.min(shardChunks[1], grid.planes), Math.min(shardChunks[2], grid.height), Math.min(shardChunks[3], grid.width)];
}

/** The shard's shape in elements (t, c, y, x): the v3 chunk grid of a sharded array. */
export function shardShape(layout: ArrayLayout, shard: ShardChunks): number[] {
  const { chunk } = layout;
  return [shard[0] * chunk.frames, shard[1] * chunk.planes, shard[2] * chunk.height, shard[3] * chunk.width];
}

/** Slots of a shard's index: every chunk position it can hold. */
export function chunksPerShard(shard: ShardChunks): number {
  return shard[0] * shard[1] * shard[2] * shard[3];
}

/** The shard (t, c, y, x shard coordinates, which are its key's) holding the chunk at `coords`. */
export function shardOf(shard: ShardChunks, coords: Coords): [number, number, number, number] {
  return [Math.floor(coords[0] / shard[0]), Math.floor(coords[1] / shard[1]), Math.floor(coords[2] / shard[2]), Math.floor(coords[3] / shard[3])];
}

/** The chunk's slot in its shard's index: C order over the shard's chunk positions (t, c, y, x). */
export function slotInShard(shard: ShardChunks, coords: Coords): number {
  return (((coords[0] % shard[0]) * shard[1] + (coords[1] % shard[1])) * shard[2] + (coords[2] % shard[2])) * shard[3] + (coords[3] % shard[3]);
}

/** Chunks of one frame's tiles that fall in shard `shardCoords` (fewer than the shard's width at a ragged edge). */
export function shardChunksPerChunkRow(layout: ArrayLayout, shard: ShardChunks, shardCoords: Coords): number {
  const { grid } = layout;
  const along = (extent: number, per: number, index: number): number => Math.max(0, Math.min(per, extent - index * per));
  return along(grid.planes, shard[1], shardCoords[1]) * along(grid.height, shard[2], shardCoords[2]) * along(grid.width, shard[3], shardCoords[3]);
}

/** Shards per shard row: the shard grid over (c, y, x). */
export function shardsPerRow(layout: ArrayLayout, shard: ShardChunks): number {
  const { grid } = layout;
  return Math.ceil(grid.planes / shard[1]) * Math.ceil(grid.height / shard[2]) * Math.ceil(grid.width / shard[3]);
}

/**
 * What one "row" is to the sink's accounting: the values it must store before the frames of a row count. Unsharded,
 * a chunk row (a chunk per tile, framesPerChunk frames); sharded, a shard row (a shard per shard-grid position,
 * shardChunks[0] chunk rows of frames).
 */
export function rowGeometry(layout: ArrayLayout): { framesPerRow: number; valuesPerRow: number; chunksPerRow: number } {
  const shard = layout.shardChunks;
  if (!shard) return { framesPerRow: layout.chunk.frames, valuesPerRow: layout.tilesPerFrame, chunksPerRow: layout.tilesPerFrame };
  return { framesPerRow: shard[0] * layout.chunk.frames, valuesPerRow: shardsPerRow(layout, shard), chunksPerRow: shard[0] * layout.tilesPerFrame };
}
