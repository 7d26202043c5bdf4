/**
 * What a write will hold at its peak, computed from the resolved layouts without allocating anything: the bytes of
 * every buffer the chain's stages may keep at once, and the files it keeps open. Pure arithmetic; each term follows
 * the bound the stage itself enforces (its pool sizes and queue lengths, as zarrTransforms configures them), so a
 * write that passes validation never needs more. docs/usage.md#memory describes the terms; docs/benchmarks.md
 * compares the estimate with measured peak RSS.
 */
import { CONSECUTIVE_PAIRING, maxPending, type PairingSpec } from '../downsample/pairing.js';
import type { ArrayLayout } from '../chunking/layout.js';
import type { BlockPlan } from '../codecs/blosc-blocks.js';
import { segmentRoom } from '../codecs/blosc-blocks.js';
import { BLOSC_MAX_OVERHEAD } from '../codecs/blosc-settings.js';
import type { EngineName } from '../codecs/engine.js';
import type { AccumulateMode } from '../transforms/chunk-accumulator.js';
import { chunksPerShard, shardsPerRow } from '../chunking/shards.js';
import { shardIndexBytes } from '../codecs/shard-index.js';

const MIB = 2 ** 20;

/**
 * Frames (of each level) that the chain may reference at once: the Downsampler's queues and the frame it works on
 * (4), the TileSplitter's input and its queue of up to a frame's tiles (2 + 2), the accumulator's input queue of a
 * frame's tiles (2) and the parts that still point into frames on the way to the compressor or the sink (2). Level-0
 * frames are the source's buffers (the writer allocates them only when it copies frames in); frames of levels >= 1
 * are the writer's own.
 */
export const FRAMES_HELD = 12;

/** Store operations the sink keeps in flight: whole chunks are large, so fewer of them. */
export function maxConcurrentWritesFor(wholeChunks: boolean): number {
  return wholeChunks ? 4 : 8;
}

/**
 * The most level-0 frame copies alive at once (frameOwnership 'copy'). Each stage queues about one frame's messages
 * (tiles or parts) and reads one more; raw parts are written straight from the frame, so the sink's writes in
 * flight may each read a different frame when a frame is a single tile. 6 covers the stages' queues (measured: 3-7
 * frames held by a chain with a fast or a slow store); the rest covers the sink. The pool grows to this only when
 * the chain holds that many frames (as it would hold the source's own buffers with 'transfer'); past it, the next
 * frame waits, which is backpressure, never a deadlock: every held frame is released by stages downstream that
 * need no further input to finish with it.
 */
export function frameCopiesBound(tilesPerFrame: number, maxConcurrentWrites: number): number {
  return 6 + Math.ceil(maxConcurrentWrites / tilesPerFrame);
}
/**
 * What the write adds to the process whatever its buffers: the JavaScript heap it grows (streams, messages, promises),
 * its modules' code, libuv's threads. Measured 34-35 MiB of writer memory for raw W1, where no other term applies.
 */
export const RUNTIME_BYTES = 48 * MIB;
/** A worker thread: its V8 isolate and heap, measured ~7 MiB here with the native engine; rounded up. */
export const WORKER_THREAD_BYTES = 12 * MIB;
/** The WebAssembly engine's heap per worker (measured ~45 MiB with 2 MiB segments, and it never shrinks), before jobs. */
export const WASM_HEAP_BASE_BYTES = 48 * MIB;
/** Per tile of a frame: its precomputed region, the messages a frame's tiles make, an open chunk's writer and state. */
export const BYTES_PER_TILE = 4096;
/** Store operations the sink runs at once, as zarrTransforms sets them: 4 for whole chunks, else 8. */
const SINK_WRITES_WHOLE = 4;
const SINK_WRITES_PARTS = 8;

/** The chain as zarrTransforms will build it: what each level's chunks go through. */
export interface ChainShape {
  layouts: readonly ArrayLayout[];
  /** Per level: 'parts' (raw), 'regions' (compressed as frames arrive), 'whole' (compressed whole). */
  modes: readonly AccumulateMode[];
  /** Per level, the segment plan of 'regions' levels. */
  plans: readonly (BlockPlan | undefined)[];
  /** Compression worker threads (0 without compression). */
  workers: number;
  engine: EngineName | undefined;
  /** Whether the Downsampler reduces on a worker thread (two frame slots). */
  downsampleThread: boolean;
  /** How each level pairs frames into the next (N-D arrays); absent: consecutive frames, one pending per level. */
  pairing?: readonly PairingSpec[];
  /** With frameOwnership 'copy': the bound of the frame-copy pool (frameCopiesBound). */
  frameCopies?: number;
  /** For an s3:// store: its part size and the uploads it keeps in flight. */
  s3Uploads?: { partBytes: number; maxConcurrentUploads: number };
}

export interface MemoryTerm {
  /** A short name: frames, pyramid, tiles, chunks, segments, compressed, workers, runtime, bookkeeping. */
  name: string;
  bytes: number;
  /** What the term counts. */
  what: string;
}

export interface ResourceEstimate {
  /** Peak bytes the writer may hold at once: the sum of the terms. */
  bytes: number;
  terms: MemoryTerm[];
  /** Chunks of all levels open at once as frames arrive (a frame's tiles for the shorthand): each an open file when streamed. */
  chunksPerFrame: number;
  /** Files the write may keep open at once: open chunks, writes in flight, metadata. */
  openFiles: number;
}

/** Bytes of one frame of `layout`. */
export function frameBytesOf(layout: ArrayLayout): number {
  return layout.frame.width * layout.frame.height * layout.frame.planes * layout.bytesPerPixel;
}

/** Bytes per output pixel of a level's pending pair state: int32 sums for small pixels, float64 sums, or 64-bit quarters + remainders. */
function pendingBytesPerPixel(bytesPerPixel: number): number {
  return Math.max(8, bytesPerPixel + 1);
}

/** Tiles of one frame that are smaller than the tile shape (frame edges): in 'parts' mode only these are copied. */
function partialTiles(layout: ArrayLayout): number {
  const { frame, chunk } = layout;
  const full = Math.floor(frame.planes / chunk.planes) * Math.floor(frame.height / chunk.height) * Math.floor(frame.width / chunk.width);
  return layout.tilesPerFrame - full;
}

export function estimateResources(chain: ChainShape): ResourceEstimate {
  const { layouts, modes, plans, workers } = chain;
  const terms: MemoryTerm[] = [];
  const add = (name: string, bytes: number, what: string): void => void terms.push({ name, bytes, what });
  const level0 = layouts[0]!;
  const tiles0 = level0.tilesPerFrame;

  // With frameOwnership 'copy' the chain's level-0 frames are the pool's copies, up to its bound (the source's own
  // buffers are the source's memory); with 'transfer' they are the source's buffers, held by the queues.
  const held0 = Math.max(FRAMES_HELD, chain.frameCopies ?? 0);
  const frames = held0 * frameBytesOf(level0) + FRAMES_HELD * layouts.slice(1).reduce((sum, layout) => sum + frameBytesOf(layout), 0);
  add('frames', frames, `up to ${held0} level-0 frames${chain.frameCopies ? ` (the frame-copy pool's bound is ${chain.frameCopies})` : ''} and ${FRAMES_HELD} of each other level, referenced by the chain's queues`);

  let pyramid = 0;
  for (let level = 1; level < layouts.length; level++) {
    const pixels = frameBytesOf(layouts[level]!) / layouts[level]!.bytesPerPixel;
    // Pending first halves (one per position awaiting its partner) and as many reusable spares.
    const states = Math.max(2, maxPending(chain.pairing?.[level - 1] ?? CONSECUTIVE_PAIRING) + 1);
    pyramid += states * pixels * pendingBytesPerPixel(layouts[level]!.bytesPerPixel);
  }
  if (chain.downsampleThread) pyramid += 2 * frameBytesOf(level0) + WORKER_THREAD_BYTES;
  add('pyramid', pyramid, 'per level, the pending halves of frame pairs and their reused spares (sums); the downsample thread\'s two frame slots');

  let tileCopies = 0;
  let wholeChunks = 0;
  let segments = 0;
  let maxWholeChunk = 0;
  let maxSegment = 0;
  let bookkeeping = 0;
  let openChunks = 0;
  let shards = 0;
  for (const layout of layouts) {
    const mode = modes[layout.level]!;
    if (layout.shardChunks) {
      // The sink's ShardPacker copies chunks that arrive in parts until each is complete (a chunk row of them, each
      // at most chunkBytes plus Blosc's overhead); whole chunks go to their shard as they are. Plus two rows' indexes.
      const chunkBound = layout.chunkBytes + (mode === 'parts' ? 0 : BLOSC_MAX_OVERHEAD);
      const indexes = 2 * shardsPerRow(layout, layout.shardChunks) * shardIndexBytes(chunksPerShard(layout.shardChunks));
      shards += (mode === 'whole' ? 0 : layout.openChunks * chunkBound) + indexes;
    }
    bookkeeping += layout.tilesPerFrame * BYTES_PER_TILE;
    if (mode === 'parts') {
      // Whole tiles go out as views of the frame; edge tiles are copied into a pool of two frames' worth.
      if (partialTiles(layout) > 0) tileCopies += 2 * layout.tilesPerFrame * layout.tileBytes;
      openChunks += layout.openChunks;
    } else if (mode === 'regions') {
      const plan = plans[layout.level]!;
      // One segment filling per open chunk, plus those being compressed (BloscCompressor's segment pool).
      segments += (layout.openChunks + 4 * workers) * plan.segmentBytes;
      // Each open chunk's block table, and its header written at the end.
      bookkeeping += layout.openChunks * 2 * (16 + 4 * Math.ceil(layout.chunkBytes / (plan.blocksize || 2 ** 14)));
      maxSegment = Math.max(maxSegment, segmentRoom(plan.segmentBytes, plan.blocksize));
      openChunks += layout.openChunks;
    } else {
      // The open chunks fill before any of them leaves; level 0 keeps a spare chunk per worker, others one.
      const spare = layout.level === 0 ? workers : Math.min(1, workers);
      wholeChunks += (layout.openChunks + spare) * layout.chunkBytes;
      maxWholeChunk = Math.max(maxWholeChunk, layout.chunkBytes + BLOSC_MAX_OVERHEAD);
    }
  }
  add('tiles', tileCopies, 'copies of edge tiles for raw chunks (two frames\' worth of tiles)');
  add('chunks', wholeChunks, 'chunks compressed whole: a chunk row of each level, plus spares');
  add('segments', segments, 'segment buffers of chunks compressed as frames arrive: one per open chunk, 4 per worker');

  // Compressed outputs: being compressed (2 per worker for whole chunks, 4 for segments) or waiting to be ordered
  // (1 per worker), queued (the compressor's 1, the sink's queue) or being written, plus the pool's idle ones.
  const streams = maxSegment > 0;
  const idle = streams ? 16 + 4 * workers : 2 * workers;
  let compressed = 0;
  if (maxWholeChunk > 0) compressed += (2 * workers + 1 + 1 + SINK_WRITES_WHOLE + idle) * maxWholeChunk;
  if (streams) compressed += (5 * workers + 1 + tiles0 + SINK_WRITES_PARTS + idle) * maxSegment;
  add('shards', shards, 'sharded levels: copies of the chunks filling in parts (a chunk row) until each goes to its shard, and the indexes');
  add('compressed', compressed, 'compressed chunks or segments in flight, queued for the store, and kept for reuse');

  let threads = workers * WORKER_THREAD_BYTES;
  if (chain.engine === 'wasm' && workers > 0) threads += workers * (WASM_HEAP_BASE_BYTES + 3 * Math.max(maxWholeChunk, maxSegment));
  add('workers', threads, `${workers} compression worker threads${chain.engine === 'wasm' ? ' and their WebAssembly heaps (input, output and scratch of a job)' : ''}`);
  add('runtime', RUNTIME_BYTES, 'the heap, code and threads the write adds to the process, whatever its buffers');
  add('bookkeeping', bookkeeping, `per tile of a frame (${BYTES_PER_TILE} bytes: messages, regions, open chunk writers) and per open chunk its block table`);

  if (chain.s3Uploads) {
    // S3Store: each open chunk's writer holds back its first part and fills another; uploads in flight hold theirs.
    const { partBytes, maxConcurrentUploads } = chain.s3Uploads;
    const chunks = layouts.reduce((sum, layout) => sum + layout.openChunks, 0);
    add('s3 parts', (2 * chunks + maxConcurrentUploads) * partBytes, `S3 multipart part buffers: 2 per open chunk (${chunks}) and ${maxConcurrentUploads} uploads in flight, of ${partBytes} bytes`);
  }

  const writes = maxWholeChunk > 0 && !streams && openChunks === 0 ? SINK_WRITES_WHOLE : SINK_WRITES_PARTS;
  return {
    bytes: terms.reduce((sum, term) => sum + term.bytes, 0),
    terms,
    chunksPerFrame: layouts.reduce((sum, layout) => sum + layout.openChunks, 0),
    openFiles: openChunks + writes + layouts.length + 1,
  };
}

/** The largest terms first, as "name size" pairs for an error message. */
export function describeTerms(estimate: ResourceEstimate, format: (bytes: number) => string, count = 3): string {
  return [...estimate.terms]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count)
    .filter((term) => term.bytes > 0)
    .map((term) => `${term.name} ${format(term.bytes)}`)
    .join(', ');
}
