/**
 * BloscCompressor: raw chunks in, Blosc1 chunks out, compressed on a pool of worker threads. Chunks travel to the
 * workers and back by transfer, not copy; the raw buffer goes back to the accumulator's pool as soon as it is
 * compressed. At most `maxInFlight` chunks are being compressed at once: beyond that the transform waits, and the
 * wait is the backpressure. Chunks leave in the order they finish (order on disk does not matter; completeness does).
 * Without settings it passes every message through, so zarrTransforms' chain has one shape for all options.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CompressPool } from '../codecs/compress-pool.js';
import { validateBloscOptions, type BloscCname, type BloscSettings, type BloscShuffle } from '../codecs/blosc-settings.js';
import { bytesPerPixel, checkDType, type DType } from '../dtype.js';
import { typesizeWritten, type EngineName, type EnginePreference } from '../codecs/engine.js';
import { v2Compressor, v3Codecs } from '../metadata/codecs.js';
import { RAW_CODECS, type CodecMetadata } from '../metadata/zarr.js';
import type { ChunkMessage, SinkMessage } from '../messages.js';

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
}

export class BloscCompressor extends Transform {
  /** The engine compressing (undefined when passing through). */
  readonly engineName: EngineName | undefined;
  readonly maxInFlight: number;
  /** Worker threads compressing (0 when passing through). */
  readonly workers: number;
  private readonly settings: readonly BloscSettings[] | undefined;
  private readonly pool: CompressPool | undefined;
  private inFlight = 0;
  private waiting: TransformCallback | undefined;
  private flushed: (() => void) | undefined;
  private failed = false;

  constructor(options: BloscCompressorOptions = {}) {
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: 1 });
    this.settings = options.settings ?? (options.codec === undefined ? undefined : shorthandSettings(options));
    if (this.settings) {
      this.pool = new CompressPool({ workers: options.workers, engine: options.engine });
      this.engineName = this.pool.engineName;
    }
    this.workers = this.pool?.size ?? 0;
    this.maxInFlight = options.maxInFlight ?? 2 * (this.pool?.size ?? 1);
  }

  override _transform(message: SinkMessage, _encoding: BufferEncoding, callback: TransformCallback): void {
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
    if (this.inFlight < this.maxInFlight) callback();
    else this.waiting = callback;
  }

  override _flush(callback: TransformCallback): void {
    if (this.inFlight === 0) {
      this.closePool().then(() => callback(), callback);
      return;
    }
    this.flushed = () => this.closePool().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
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

  private settle(): void {
    this.inFlight--;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
    if (this.inFlight === 0 && this.flushed && !this.failed) {
      const flushed = this.flushed;
      this.flushed = undefined;
      flushed();
    }
  }

  private closePool(): Promise<void> {
    return this.pool ? this.pool.close() : Promise.resolve();
  }
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
