/**
 * ChunkAccumulator: tiles of consecutive frames in, chunks out.
 *
 * Three ways to emit, chosen per level by what follows:
 * - 'parts' (raw chunks): a raw chunk is C ordered (t, c, y, x), so frame t's tile is one contiguous slab of it.
 *   Each tile goes out at once as a ChunkPartMessage; no chunk is ever held whole, so memory is a few tiles whatever
 *   the chunk size.
 * - 'regions' (a compressor that gathers tiles into segments follows): the same parts, naming each tile's region of
 *   its frame instead of carrying bytes, so the one copy of the pixels is the consumer's.
 * - 'whole' (a codec that needs whole chunks follows): tiles are copied into pooled chunk buffers, and a chunk goes
 *   out once its last frame is in (or at the end of the stream, padded with the fill value).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { tileOrdinal, type ArrayLayout } from '../chunking/layout.js';
import { chunkCoordsOf, placeFrame, rowPrefixes, type Placement } from '../chunking/placement.js';
import { copyTile, contiguousTileView, tileRowViews } from '../chunking/tiles.js';
import type { Bytes, ChunkMessage, ChunkPartMessage, TileMessage } from '../messages.js';
import { BufferPool } from '../util/buffer-pool.js';

export type AccumulateMode = 'parts' | 'regions' | 'whole';

/**
 * How a level's chunks travel: raw chunks stream as parts, chunks a compressor cuts into segments as regions, the
 * rest whole. Only chunks whose slabs arrive in increasing order can stream (acquisition order, chunking/layout.ts).
 */
export function accumulateModeOf(layout: ArrayLayout, compressed: boolean, segmented: boolean): AccumulateMode {
  if (!layout.slotsInOrder) return 'whole';
  return !compressed ? 'parts' : segmented ? 'regions' : 'whole';
}

export interface ChunkAccumulatorOptions {
  layouts: readonly ArrayLayout[];
  /** One mode for every level, or one per level (e.g. regions where a compressor streams a level's chunks). */
  mode: AccumulateMode | readonly AccumulateMode[];
  /**
   * 'whole' mode: chunk buffers per level beyond the chunks open at once. A chunk must fill completely before it
   * leaves, so the pool holds the open chunks plus this many in flight downstream. Default: half a frame's tiles.
   * Levels above 0 fill their chunks 2^level times more slowly and keep at most one spare: fresh memory is dear.
   */
  spareChunks?: number;
  /** 'parts' mode: tile buffers in flight per level. Default: two frames' worth. */
  tileBuffers?: number;
}

interface OpenChunk {
  coords: number[];
  /** 'whole' mode: the chunk's buffer, and which of its slabs have arrived. */
  buffer: Uint8Array | undefined;
  filled: Uint8Array | undefined;
  /** Slabs placed so far. */
  count: number;
  /** 'parts'/'regions': the byte offset the next part must start at (slabs before it are sent or zero-filled). */
  next: number;
}


interface LevelState {
  layout: ArrayLayout;
  mode: AccumulateMode;
  pool: BufferPool;
  /** Chunks of the current chunk row being filled, by outerIndex * tilesPerFrame + tile ordinal. */
  open: Map<number, OpenChunk>;
  /** The current chunk row, and which of its chunks are complete (1; same index as `open`). */
  row: number;
  done: Uint8Array;
  /** Highest frame index seen + 1, to detect gaps and to close the last chunk row. */
  frames: number;
  /** The placement of the frame whose tiles are arriving (one frame's tiles come together). */
  placed: { t: number; placement: Placement } | undefined;
  /** Zeros of one slab, for the slabs of an edge chunk that lie outside the array (shared, read-only). */
  zeros: Uint8Array | undefined;
}

export class ChunkAccumulator extends Transform {
  private readonly levels: LevelState[];

  constructor(options: ChunkAccumulatorOptions) {
    const tiles = options.layouts[0]?.tilesPerFrame ?? 1;
    const modeOf = (level: number): AccumulateMode => (typeof options.mode === 'string' ? options.mode : (options.mode[level] ?? 'whole'));
    super({ objectMode: true, writableHighWaterMark: tiles, readableHighWaterMark: modeOf(0) === 'whole' ? 1 : tiles });
    this.levels = options.layouts.map((layout) => {
      const mode = modeOf(layout.level);
      // Pools allocate on demand: 'regions' never asks.
      const size = mode === 'whole' ? layout.chunkBytes : layout.tileBytes;
      const max =
        mode !== 'whole'
          ? (options.tileBuffers ?? 2 * layout.tilesPerFrame)
          : layout.openChunks + Math.min(layout.level === 0 ? Infinity : 1, options.spareChunks ?? Math.ceil(layout.tilesPerFrame / 2));
      return {
        layout,
        mode,
        pool: new BufferPool(size, Math.max(1, max)),
        open: new Map(),
        row: 0,
        done: new Uint8Array(layout.chunksPerRow),
        frames: 0,
        placed: undefined,
        zeros: undefined,
      };
    });
  }

  override _transform(tile: TileMessage, _encoding: BufferEncoding, callback: TransformCallback): void {
    const state = this.levels[tile.level];
    if (!state) {
      callback(new RangeError(`tile of frame ${tile.t} names level ${tile.level}; the dataset has ${this.levels.length}`));
      return;
    }
    const { layout } = state;
    if (tile.t < state.frames - 1 || tile.t > state.frames) {
      callback(new RangeError(`level ${tile.level}: frame ${tile.t} arrived after frame ${state.frames - 1}; frames must arrive in order`));
      return;
    }
    state.frames = tile.t + 1;
    if (state.placed?.t !== tile.t) state.placed = { t: tile.t, placement: placeFrame(layout, tile.t) };
    const { placement } = state.placed;
    if (placement.prefix[0] !== state.row) {
      // A row's chunks all complete within its steps, before the next row's first frame.
      if (state.open.size > 0) {
        callback(new Error(`level ${tile.level}: chunk row ${state.row} still has ${state.open.size} chunk(s) open when frame ${tile.t} starts row ${placement.prefix[0]}`));
        return;
      }
      state.row = placement.prefix[0]!;
      state.done.fill(0);
    }
    const index = placement.outerIndex * layout.tilesPerFrame + tileOrdinal(layout, tile.tile);
    let chunk = state.open.get(index);
    if (!chunk) {
      chunk = openChunk(chunkCoordsOf(layout, placement.prefix, tile.tile));
      state.open.set(index, chunk);
    }
    if (state.mode !== 'whole') {
      // Slabs arrive in order here (accumulateModeOf), so the chunk is complete with its last slab inside the array.
      const complete = placement.slot === placement.lastSlot;
      this.placePart(state, tile, chunk, placement.slot, complete, callback);
      if (complete) this.markDone(state, index);
      return;
    }
    const open = chunk;
    const place = (buffer: Uint8Array): void => {
      open.buffer = buffer;
      copyTile(tile.frame.bytes, layout, tile.region, buffer, placement.slot * layout.tileBytes);
      tile.release?.();
      open.filled![placement.slot] = 1;
      open.count++;
      if (open.count === placement.validSlots) {
        this.markDone(state, index);
        this.pushChunk(state, open, layout.chunk.frames);
      }
      callback();
    };
    if (open.buffer) {
      place(open.buffer);
      return;
    }
    open.filled = new Uint8Array(layout.slotsPerChunk);
    withBuffer(state.pool, callback, place);
  }

  override _flush(callback: TransformCallback): void {
    for (const state of this.levels) {
      const { layout } = state;
      if (state.frames === 0) continue;
      const steps = Math.ceil(state.frames / layout.framesPerStep);
      const frames = steps - state.row * layout.chunk.frames;
      // The stream ended inside the last chunk row: close every chunk of it that is not complete (the rest of each
      // is the fill value), so the row is whole on disk and the metadata can count its frames.
      rowPrefixes(layout, state.row).forEach((prefix, outerIndex) => {
        for (let ordinal = 0; ordinal < layout.tilesPerFrame; ordinal++) {
          const index = outerIndex * layout.tilesPerFrame + ordinal;
          if (state.done[index]) continue;
          const chunk = state.open.get(index) ?? openChunk(chunkCoordsOf(layout, prefix, tileOf(layout, ordinal)));
          if (state.mode !== 'whole') {
            this.push({ kind: 'chunk-part', level: layout.level, coords: chunk.coords, offset: chunk.next, data: NO_BYTES, complete: { totalBytes: layout.chunkBytes, frames } } satisfies ChunkPartMessage);
            continue;
          }
          // A chunk no frame reached is all fill: a fresh zeroed buffer, not the pool's (it never goes back to it).
          const pooled = chunk.buffer !== undefined;
          chunk.buffer ??= new Uint8Array(layout.chunkBytes);
          chunk.filled ??= new Uint8Array(layout.slotsPerChunk).fill(1);
          this.pushChunk(state, chunk, frames, pooled);
        }
      });
      state.open.clear();
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const state of this.levels) {
      state.open.clear();
      state.pool.drain();
    }
    callback(error);
  }

  /** 'parts'/'regions': sends the tile as the chunk's next part, after zeros for slabs outside the array. */
  private placePart(state: LevelState, tile: TileMessage, chunk: OpenChunk, slot: number, complete: boolean, callback: TransformCallback): void {
    const { layout } = state;
    const offset = slot * layout.tileBytes;
    if (offset > chunk.next) {
      state.zeros ??= new Uint8Array(layout.tileBytes);
      const gap = new Array<Uint8Array>((offset - chunk.next) / layout.tileBytes).fill(state.zeros);
      this.push({ kind: 'chunk-part', level: tile.level, coords: chunk.coords, offset: chunk.next, data: gap } satisfies ChunkPartMessage);
    }
    chunk.next = offset + layout.tileBytes;
    const emit = (data: Bytes, release: (() => void) | undefined, region?: ChunkPartMessage['region']): void => {
      const part: ChunkPartMessage = { kind: 'chunk-part', level: tile.level, coords: chunk.coords, offset, data };
      if (region) part.region = region;
      if (release) part.release = release;
      if (complete) part.complete = { totalBytes: layout.chunkBytes, frames: layout.chunk.frames };
      this.push(part);
      callback();
    };
    // Parts that read the frame carry the tile's release: their consumer (compressor or sink) calls it once read.
    if (state.mode === 'regions') {
      emit(NO_BYTES, tile.release, { frame: tile.frame.bytes, layout, region: tile.region });
      return;
    }
    // Unpadded tiles go out as views of the frame (one run, or its rows): the store's write is their only copy.
    const view = contiguousTileView(tile.frame.bytes, layout, tile.region) ?? tileRowViews(tile.frame.bytes, layout, tile.region);
    if (view) {
      emit(view, tile.release);
      return;
    }
    withBuffer(state.pool, callback, (buffer) => {
      copyTile(tile.frame.bytes, layout, tile.region, buffer, 0);
      tile.release?.();
      emit(buffer, () => state.pool.release(buffer));
    });
  }

  private markDone(state: LevelState, index: number): void {
    state.open.delete(index);
    state.done[index] = 1;
  }

  /** Sends a whole chunk on, its slabs that never arrived set to the fill value (reused buffers hold stale pixels). */
  private pushChunk(state: LevelState, chunk: OpenChunk, frames: number, pooled = true): void {
    const { tileBytes } = state.layout;
    const buffer = chunk.buffer!;
    chunk.filled!.forEach((filled, slot) => {
      if (!filled) buffer.fill(0, slot * tileBytes, (slot + 1) * tileBytes);
    });
    const message: ChunkMessage = {
      kind: 'chunk',
      level: state.layout.level,
      coords: chunk.coords,
      frames,
      data: buffer,
      encoded: false,
      release: pooled ? (returned?: Uint8Array) => state.pool.release(returned ?? buffer) : () => undefined,
    };
    this.push(message);
  }
}

/** A chunk no slab has reached yet. */
function openChunk(coords: number[]): OpenChunk {
  return { coords, buffer: undefined, filled: undefined, count: 0, next: 0 };
}

/** Tile (c, y, x) of a tile ordinal (C order over the frame's tile grid). */
function tileOf(layout: ArrayLayout, ordinal: number): [number, number, number] {
  const { grid } = layout;
  return [Math.floor(ordinal / (grid.height * grid.width)), Math.floor(ordinal / grid.width) % grid.height, ordinal % grid.width];
}

const NO_BYTES = new Uint8Array(0);

/** Runs `use` with a pooled buffer, now if one is free, else once one is released (that wait is the backpressure). */
function withBuffer(pool: BufferPool, callback: TransformCallback, use: (buffer: Uint8Array) => void): void {
  const buffer = pool.acquire();
  if (buffer instanceof Uint8Array) {
    use(buffer);
    return;
  }
  buffer.then(use, callback);
}
