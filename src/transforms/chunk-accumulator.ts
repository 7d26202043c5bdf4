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
import { chunkCoords, tileOrdinal, type ArrayLayout } from '../chunking/layout.js';
import { copyTile, contiguousTileView, tileRowViews } from '../chunking/tiles.js';
import type { Bytes, ChunkMessage, ChunkPartMessage, TileMessage } from '../messages.js';
import { BufferPool } from '../util/buffer-pool.js';

export type AccumulateMode = 'parts' | 'regions' | 'whole';

export interface ChunkAccumulatorOptions {
  layouts: readonly ArrayLayout[];
  /** One mode for every level, or one per level (e.g. regions where a compressor streams a level's chunks). */
  mode: AccumulateMode | readonly AccumulateMode[];
  /**
   * 'whole' mode: chunk buffers per level beyond one chunk row. A row must fill completely before any of its
   * chunks leaves, so the pool holds one row plus this many chunks in flight downstream. Default: half a row.
   * Levels above 0 fill their rows 2^level times more slowly and keep at most one spare: fresh memory is dear.
   */
  spareChunks?: number;
  /** 'parts' mode: tile buffers in flight per level. Default: two frames' worth. */
  tileBuffers?: number;
}

interface OpenChunk {
  coords: [number, number, number, number];
  buffer: Uint8Array;
  frames: number;
}

interface LevelState {
  layout: ArrayLayout;
  mode: AccumulateMode;
  pool: BufferPool;
  /** 'whole' mode: chunks being filled, by tile ordinal (one chunk row at a time). */
  open: Map<number, OpenChunk>;
  /** Highest frame index seen + 1, to detect gaps and to close the last chunk row. */
  frames: number;
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
          : layout.tilesPerFrame + Math.min(layout.level === 0 ? Infinity : 1, options.spareChunks ?? Math.ceil(layout.tilesPerFrame / 2));
      return { layout, mode, pool: new BufferPool(size, Math.max(1, max)), open: new Map(), frames: 0 };
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
    const coords = chunkCoords(layout, tile.t, tile.tile);
    const slot = tile.t % layout.chunk.frames;
    const lastFrameOfChunk = slot === layout.chunk.frames - 1;
    if (state.mode !== 'whole') {
      const emit = (data: Bytes, release: (() => void) | undefined, region?: ChunkPartMessage['region']): void => {
        const part: ChunkPartMessage = { kind: 'chunk-part', level: tile.level, coords, offset: slot * layout.tileBytes, data };
        if (region) part.region = region;
        if (release) part.release = release;
        if (lastFrameOfChunk) part.complete = { totalBytes: layout.chunkBytes, frames: layout.chunk.frames };
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
      return;
    }
    const ordinal = tileOrdinal(layout, tile.tile);
    const place = (chunk: OpenChunk): void => {
      copyTile(tile.frame.bytes, layout, tile.region, chunk.buffer, slot * layout.tileBytes);
      tile.release?.();
      chunk.frames = slot + 1;
      if (lastFrameOfChunk) {
        state.open.delete(ordinal);
        this.pushChunk(state, chunk);
      }
      callback();
    };
    const open = state.open.get(ordinal);
    if (open) {
      place(open);
      return;
    }
    withBuffer(state.pool, callback, (buffer) => {
      const chunk: OpenChunk = { coords, buffer, frames: 0 };
      state.open.set(ordinal, chunk);
      place(chunk);
    });
  }

  override _flush(callback: TransformCallback): void {
    for (const state of this.levels) {
      const { layout } = state;
      const tail = state.frames % layout.chunk.frames;
      if (state.mode === 'whole') {
        for (const chunk of state.open.values()) {
          // Reused buffers hold stale pixels past the last frame: the fill value must be written explicitly.
          chunk.buffer.fill(0, chunk.frames * layout.tileBytes);
          this.pushChunk(state, chunk);
        }
        state.open.clear();
      } else if (tail !== 0) {
        // 'parts' and 'regions' alike.
        // The last chunk row is short: close each of its chunks with an empty part that says where it ends.
        const t = Math.floor(state.frames / layout.chunk.frames);
        for (let c = 0; c < layout.grid.planes; c++) {
          for (let y = 0; y < layout.grid.height; y++) {
            for (let x = 0; x < layout.grid.width; x++) {
              const part: ChunkPartMessage = {
                kind: 'chunk-part',
                level: layout.level,
                coords: [t, c, y, x],
                offset: tail * layout.tileBytes,
                data: new Uint8Array(0),
                complete: { totalBytes: layout.chunkBytes, frames: tail },
              };
              this.push(part);
            }
          }
        }
      }
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

  private pushChunk(state: LevelState, chunk: OpenChunk): void {
    const message: ChunkMessage = {
      kind: 'chunk',
      level: state.layout.level,
      coords: chunk.coords,
      frames: chunk.frames,
      data: chunk.buffer,
      encoded: false,
      release: (returned?: Uint8Array) => state.pool.release(returned ?? chunk.buffer),
    };
    this.push(message);
  }
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
