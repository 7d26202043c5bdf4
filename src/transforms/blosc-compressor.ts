/**
 * BloscCompressor: raw chunks in, Blosc1 chunks out, compressed on a pool of worker threads. Two paths:
 * - Streamed (when a level's chunks cut into segments of whole Blosc blocks; see codecs/blosc-blocks):
 *   tiles arrive frame by frame (as regions of their frames, or raw parts), are copied into small reused segment
 *   buffers, compressed as each
 *   segment fills, and leave as encoded parts (runs of blocks) in chunk order, the chunk's header and block table
 *   last. No chunk is held whole, raw or compressed, and compression keeps pace with the frames.
 * - Whole chunks: chunks travel to the workers and back by transfer, not copy; the raw buffer goes back to the
 *   accumulator's pool as soon as it is compressed.
 * At most `maxInFlight` chunks (or 2x that many segments) are being compressed at once: beyond that the transform
 * waits, and the wait is the backpressure. Whole chunks leave in the order they finish (order on disk does not
 * matter; completeness does). Without settings it passes every message through, so zarrTransforms' chain has one
 * shape for all options.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { ArrayLayout } from '../chunking/layout.js';
import { streamPlanOf } from '../codecs/stream-plan.js';
import { TileCopies } from './tile-copies.js';
import { BloscChunkAssembler, segmentRoom, type BlockPlan } from '../codecs/blosc-blocks.js';
import { CompressPool, type CompressResult } from '../codecs/compress-pool.js';
import { validateBloscOptions, type BloscCname, type BloscSettings, type BloscShuffle } from '../codecs/blosc-settings.js';
import { bytesPerPixel, checkDType, type DType } from '../dtype.js';
import { resolveEngineName, typesizeWritten, type EngineName, type EnginePreference } from '../codecs/engine.js';
import { availableParallelism } from 'node:os';
import { v2Compressor, v3Codecs } from '../metadata/codecs.js';
import { RAW_CODECS, type CodecMetadata } from '../metadata/zarr.js';
import type { ChunkMessage, ChunkPartMessage, SinkMessage } from '../messages.js';
import { BufferPool } from '../util/buffer-pool.js';

export interface BloscCompressorOptions {
  /** Blosc settings per level (typesize = the dtype's size); without them or `codec`: pass chunks through. */
  settings?: readonly BloscSettings[];
  /** Shorthand for one setting used at every level: the codec, with the pixel dtype for the typesize. */
  codec?: BloscCname;
  /** 0..9; default 1. */
  clevel?: number;
  /** Default 'byte'. */
  shuffle?: BloscShuffle;
  /** Default 0 (automatic). */
  blocksize?: number;
  /** Required with `codec`: the shuffle works over elements of this size. */
  dtype?: DType;
  /** Worker threads; default: the machine's cores. */
  workers?: number;
  engine?: EnginePreference;
  /** Chunks being compressed at once; default 2 per worker, so no worker waits for the next chunk. */
  maxInFlight?: number;
  /**
   * The arrays' layouts, by level. With them chunks are compressed in segments as their
   * frames arrive, wherever a chunk cuts into segments of whole Blosc blocks: `blockPlans` says where, and those
   * levels must receive raw chunk parts. Without them every chunk is compressed whole.
   */
  layouts?: readonly ArrayLayout[];
  /** Set false to compress whole chunks even where segments would do. Default true. */
  streamBlocks?: boolean;
}

/** A chunk being compressed segment by segment. */
interface StreamedChunk {
  level: number;
  coords: readonly number[];
  assembler: BloscChunkAssembler;
  /** The segment being filled, and its start in the chunk's raw bytes. */
  segment: SegmentFill | undefined;
  segmentStart: number;
  /** Raw bytes received (and zero-filled) so far. */
  filled: number;
  /** Segments full (numbered in that order), and segments whose blocks have left (in order). */
  sealed: number;
  emitted: number;
  /** Compressed segments waiting for their turn, by sequence number. */
  done: Map<number, CompressResult>;
  /** Block bytes emitted so far (they follow the header and block table). */
  stored: number;
  /** Set once the chunk's last part arrived: its frame count. */
  frames: number | undefined;
}

/** A segment buffer being filled: it goes to be compressed once full and once the tile copies into it have landed. */
interface SegmentFill {
  buffer: Uint8Array;
  /** Its place among the chunk's segments, known once it is full. */
  seq: number;
  /** Tile copies into it still running off the main thread. */
  copies: number;
  full: boolean;
}

/** Per level: the segment plan, the settings segments are compressed with, and its reused segment buffers. */
interface LevelStreaming {
  plan: BlockPlan;
  settings: BloscSettings;
  segments: BufferPool;
  /** A segment of zeros, for padding the last chunk row (shared, read-only). */
  zeros: Uint8Array | undefined;
}

export class BloscCompressor extends Transform {
  /** The engine compressing (undefined when passing through). */
  readonly engineName: EngineName | undefined;
  readonly maxInFlight: number;
  /** Worker threads compressing (0 when passing through). */
  readonly workers: number;
  private readonly settings: readonly BloscSettings[] | undefined;
  private readonly pool: CompressPool | undefined;
  /** Per level: how its chunks are cut into segments, or undefined where chunks are compressed whole. */
  readonly blockPlans: readonly (BlockPlan | undefined)[];
  private readonly streaming: readonly (LevelStreaming | undefined)[];
  private readonly open = new Map<string, StreamedChunk>();
  private readonly maxSegmentsInFlight: number;
  private inFlight = 0;
  /** Tile copies into segments running off the main thread: the stream ends only once they have landed. */
  private copies = 0;
  private readonly tileCopies = new TileCopies();
  private waiting: TransformCallback | undefined;
  private flushed: (() => void) | undefined;
  private failed = false;

  constructor(options: BloscCompressorOptions = {}) {
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: 1 });
    this.settings = options.settings ?? (options.codec === undefined ? undefined : shorthandSettings(options));
    const workers = options.workers;
    this.streaming = this.settings && options.layouts && options.streamBlocks !== false ? streamingLevels(this.settings, options.layouts, options.engine, workers) : [];
    this.blockPlans = this.streaming.map((level) => level?.plan);
    if (this.settings) {
      // Segment outputs are small and many are in flight towards the store: keep them all for reuse. The sink queues
      // up to a frame's tiles of messages (its highWaterMark) besides its 8 writes, each holding an output: a pool
      // that keeps fewer makes fresh buffers and drops them all along (W5, 64 tiles a frame: 1/3 of its CPU).
      const streams = this.blockPlans.some(Boolean);
      const queued = (options.layouts?.[0]?.tilesPerFrame ?? 0) + 8;
      this.pool = new CompressPool({ workers, engine: options.engine, maxIdleBuffers: streams ? Math.max(16, queued) + 4 * (workers ?? availableParallelism()) : undefined });
      this.engineName = this.pool.engineName;
    }
    this.workers = this.pool?.size ?? 0;
    this.maxInFlight = options.maxInFlight ?? 2 * (this.pool?.size ?? 1);
    this.maxSegmentsInFlight = 2 * this.maxInFlight;
  }

  override _transform(message: SinkMessage, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.pool && message.kind === 'chunk-part' && !message.encoded && this.streaming[message.level]) {
      this.acceptPart(message, this.streaming[message.level]!).then(() => this.admit(this.maxSegmentsInFlight, callback), callback);
      return;
    }
    if (this.pool && message.kind === 'chunk-part' && !message.encoded) {
      callback(new Error(`raw chunk part of ${message.coords.join('/')} at level ${message.level}: that level's chunks are compressed whole, send whole chunks`));
      return;
    }
    if (!this.pool || message.kind !== 'chunk' || message.encoded) {
      callback(null, message);
      return;
    }
    const settings = this.settings![message.level];
    if (!settings) {
      callback(new RangeError(`chunk ${message.coords.join('/')} of level ${message.level}: no Blosc settings for that level`));
      return;
    }
    this.inFlight++;
    this.pool.compress(message.data, settings).then(
      (result) => {
        // The raw memory came back from the worker as a new view; its pool can reuse it now.
        message.release?.(result.raw);
        const encoded: ChunkMessage = { ...message, data: result.data, encoded: true, release: () => result.release() };
        this.push(encoded);
        this.settle();
      },
      (error: Error) => {
        this.failed = true;
        this.destroy(new Error(`compressing chunk ${message.coords.join('/')} of level ${message.level}: ${error.message}`));
      },
    );
    this.admit(this.maxInFlight, callback);
  }

  override _flush(callback: TransformCallback): void {
    const finish = (): void => {
      const [key] = this.open.keys();
      if (key !== undefined) {
        callback(new Error(`the stream ended with chunk ${key} (level/t/c/y/x) incomplete: ${this.open.size} chunk(s) lack parts`));
        return;
      }
      this.closePool().then(() => callback(), callback);
    };
    if (this.inFlight === 0 && this.copies === 0) finish();
    else this.flushed = finish;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const chunk of this.open.values()) for (const result of chunk.done.values()) result.release();
    this.open.clear();
    this.closePool().then(
      () => callback(error),
      () => callback(error),
    );
  }

  /** What the arrays' metadata must say of the chunks this stage writes (typesize as the engine wrote it). */
  get codecs(): CodecMetadata {
    const settings = this.settings?.[0];
    if (!settings || !this.engineName) return RAW_CODECS;
    return {
      v2Compressor: { ...v2Compressor(settings) },
      v3Codecs: v3Codecs({ ...settings, typesize: typesizeWritten(this.engineName, settings) }).map((codec) => ({ ...codec })),
    };
  }

  /** Lets the next message in now, or once fewer than `limit` jobs are in flight. */
  private admit(limit: number, callback: TransformCallback): void {
    if (this.inFlight < limit) callback();
    else this.waiting = callback;
  }

  /** Copies a raw part into its chunk's segments, sending each full segment off; the last part pads and closes. */
  private async acceptPart(part: ChunkPartMessage, level: LevelStreaming): Promise<void> {
    const { plan } = level;
    const key = `${part.level}/${part.coords.join('/')}`;
    let chunk = this.open.get(key);
    if (!chunk) {
      chunk = {
        level: part.level,
        coords: part.coords,
        assembler: new BloscChunkAssembler(plan, `chunk ${part.coords.join('/')} of level ${part.level}`),
        segment: undefined,
        segmentStart: 0,
        filled: 0,
        sealed: 0,
        emitted: 0,
        done: new Map(),
        stored: 0,
        frames: undefined,
      };
      this.open.set(key, chunk);
    }
    if (part.offset !== chunk.filled) throw new Error(`chunk ${key} (level/t/c/y/x): part at byte ${part.offset}, expected ${chunk.filled}`);
    // Known before the chunk's last segment can come back compressed (it closes the chunk).
    if (part.complete) chunk.frames = part.complete.frames;
    let release = part.release;
    if (part.region) {
      // A tile named by its region: copied (and padded) straight from the frame into the segment, off the main
      // thread where the addon is built; the part's release (the frame's share) waits for the copy.
      const { frame, layout, region } = part.region;
      const ready = this.segmentOf(chunk, level);
      const fill = 'buffer' in ready ? ready : await ready;
      const copying = this.tileCopies.copy(frame, layout, region, fill.buffer, chunk.filled - chunk.segmentStart);
      if (copying) {
        const released = release;
        release = undefined;
        fill.copies++;
        this.copies++;
        copying.then(
          () => {
            released?.();
            this.copied(chunk, level, fill);
          },
          (error: Error) => {
            released?.();
            this.failed = true;
            this.destroy(new Error(`copying a tile into chunk ${chunk.coords.join('/')} of level ${chunk.level}: ${error.message}`));
          },
        );
      }
      this.filledBy(chunk, level, layout.tileBytes);
    }
    for (const piece of part.data instanceof Uint8Array ? [part.data] : part.data) {
      for (let at = 0; at < piece.byteLength; ) {
        const ready = this.segmentOf(chunk, level);
        const segment = ('buffer' in ready ? ready : await ready).buffer;
        const into = chunk.filled - chunk.segmentStart;
        const n = Math.min(plan.segmentBytes - into, piece.byteLength - at);
        segment.set(n === piece.byteLength ? piece : piece.subarray(at, at + n), into);
        at += n;
        this.filledBy(chunk, level, n);
      }
    }
    release?.();
    if (!part.complete) return;
    // The chunk's remaining frame slots hold the fill value (0); copies into the segment's first bytes may still run.
    if (chunk.segment) {
      const fill = chunk.segment;
      fill.buffer.fill(0, chunk.filled - chunk.segmentStart);
      chunk.filled = chunk.segmentStart + plan.segmentBytes;
      this.seal(chunk, level, fill);
    }
    while (chunk.filled < plan.chunkBytes) {
      level.zeros ??= new Uint8Array(new SharedArrayBuffer(plan.segmentBytes));
      chunk.filled += plan.segmentBytes;
      chunk.segmentStart = chunk.filled;
      this.send(chunk, level, level.zeros, chunk.sealed++);
    }
    this.open.delete(key);
  }

  /**
   * The segment being filled, taking a buffer from the level's pool when none is: at once when one is free, else a
   * promise (that wait is backpressure).
   */
  private segmentOf(chunk: StreamedChunk, level: LevelStreaming): SegmentFill | Promise<SegmentFill> {
    if (chunk.segment) return chunk.segment;
    const start = (buffer: Uint8Array): SegmentFill => (chunk.segment = { buffer, seq: -1, copies: 0, full: false });
    const buffer = level.segments.acquire();
    return buffer instanceof Uint8Array ? start(buffer) : buffer.then(start);
  }

  /** Counts `bytes` more into the chunk's segment, and seals the segment once it is full. */
  private filledBy(chunk: StreamedChunk, level: LevelStreaming, bytes: number): void {
    chunk.filled += bytes;
    if (chunk.segment && chunk.filled - chunk.segmentStart === level.plan.segmentBytes) this.seal(chunk, level, chunk.segment);
  }

  /** The segment is full: the chunk's next one starts here, and this one is compressed once its copies have landed. */
  private seal(chunk: StreamedChunk, level: LevelStreaming, fill: SegmentFill): void {
    fill.full = true;
    fill.seq = chunk.sealed++;
    chunk.segment = undefined;
    chunk.segmentStart = chunk.filled;
    if (fill.copies === 0) this.send(chunk, level, fill.buffer, fill.seq);
  }

  /** A tile copy into `fill` has landed: a full segment whose copies have all landed goes to be compressed. */
  private copied(chunk: StreamedChunk, level: LevelStreaming, fill: SegmentFill): void {
    fill.copies--;
    this.copies--;
    if (this.destroyed) return;
    if (fill.full && fill.copies === 0) this.send(chunk, level, fill.buffer, fill.seq);
    this.maybeFlushed();
  }

  /** Compresses the chunk's segment `seq` (`input`: a pooled segment buffer, or the shared zero segment). */
  private send(chunk: StreamedChunk, level: LevelStreaming, input: Uint8Array, seq: number): void {
    this.inFlight++;
    this.pool!.compress(input, level.settings, { outBytes: segmentRoom(level.plan.segmentBytes, level.plan.blocksize), blocked: true }).then(
      (result) => {
        if (input !== level.zeros) level.segments.release(result.raw);
        chunk.done.set(seq, result);
        this.emitInOrder(chunk, level);
        this.settle();
      },
      (error: Error) => {
        this.failed = true;
        this.destroy(new Error(`compressing chunk ${chunk.coords.join('/')} of level ${chunk.level}, segment ${seq}: ${error.message}`));
      },
    );
  }

  /** Pushes the chunk's compressed segments that are next in line; the last one carries the header and table. */
  private emitInOrder(chunk: StreamedChunk, level: LevelStreaming): void {
    for (let result = chunk.done.get(chunk.emitted); result; result = chunk.done.get(chunk.emitted)) {
      chunk.done.delete(chunk.emitted);
      let blocks: Uint8Array;
      try {
        blocks = chunk.assembler.add(result.data);
      } catch (error) {
        result.release();
        this.failed = true;
        this.destroy(error as Error);
        return;
      }
      const first = chunk.emitted === 0;
      const part: ChunkPartMessage = {
        kind: 'chunk-part',
        level: chunk.level,
        coords: chunk.coords,
        offset: first ? 0 : chunk.assembler.prefixBytes + chunk.stored,
        data: first ? [placeholder(chunk.assembler.prefixBytes), blocks] : blocks,
        encoded: true,
        release: () => result.release(),
      };
      chunk.stored += blocks.byteLength;
      chunk.emitted++;
      if (chunk.frames !== undefined && chunk.emitted === level.plan.chunkBytes / level.plan.segmentBytes) part.complete = { frames: chunk.frames, head: chunk.assembler.finish() };
      this.push(part);
    }
  }

  private settle(): void {
    this.inFlight--;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
    this.maybeFlushed();
  }

  /** Ends the stream once it was asked to and nothing is compressing or being copied any more. */
  private maybeFlushed(): void {
    if (this.inFlight === 0 && this.copies === 0 && this.flushed && !this.failed) {
      const flushed = this.flushed;
      this.flushed = undefined;
      flushed();
    }
  }

  private closePool(): Promise<void> {
    return this.pool ? this.pool.close() : Promise.resolve();
  }
}

/**
 * Which levels compress in segments: those that compress at all and whose chunks cut into equal segments of whole
 * blocks. The native engine is asked for the chunk's blocksize and given room enough that segments always come
 * back as real blocks; numcodecs' blocksize is read from the first segment, and its plain copies are rewritten as
 * stored blocks by the worker (compress-worker.ts).
 */
function streamingLevels(
  settings: readonly BloscSettings[],
  layouts: readonly ArrayLayout[],
  engine: EnginePreference | undefined,
  workers: number | undefined,
): (LevelStreaming | undefined)[] {
  const native = resolveEngineName(engine ?? 'auto') === 'native';
  return layouts.map((layout) => {
    const s = settings[layout.level];
    const streamed = s && streamPlanOf(s, layout, native);
    if (!streamed) return undefined;
    const { plan, request } = streamed;
    // Segments fill one per open chunk while the others are being compressed.
    const buffers = layout.openChunks + 4 * (workers ?? availableParallelism());
    return {
      plan,
      settings: { ...s, blocksize: request },
      segments: new BufferPool(plan.segmentBytes, buffers, (bytes) => new Uint8Array(new SharedArrayBuffer(bytes))),
      zeros: undefined,
    };
  });
}

const placeholders = new Map<number, Uint8Array>();

/** Zeros that hold the room of a chunk's header and block table until they are known (read-only, shared). */
function placeholder(bytes: number): Uint8Array {
  let zeros = placeholders.get(bytes);
  if (!zeros) placeholders.set(bytes, (zeros = new Uint8Array(bytes)));
  return zeros;
}

/** The same settings for every level (the chain's levels share a dtype, so they share a typesize). */
function shorthandSettings(options: BloscCompressorOptions): BloscSettings[] {
  const dtype = checkDType(options.dtype, 'BloscCompressor dtype');
  const settings = validateBloscOptions({
    cname: options.codec,
    clevel: options.clevel ?? 1,
    shuffle: options.shuffle ?? 'byte',
    blocksize: options.blocksize ?? 0,
    typesize: bytesPerPixel(dtype),
  });
  // Levels index the array; a pyramid deeper than 64 levels would need frames wider than 2^64 pixels.
  return Array.from({ length: 64 }, () => settings);
}
