/**
 * Builds the multiscale pyramid on the fly. Takes level-0 FrameMessages, passes each through unchanged and,
 * as pairs of frames complete, pushes the frames of levels 1..L-1 (each level counting its own t from 0).
 * Level l+1 frame k is the 2x2x2 (t, y, x) reduction of level l frames 2k and 2k+1; a frame left unpaired at
 * the end of the stream is reduced in space only, so level l holds ceil(T / 2^l) frames.
 *
 * Memory: a level keeps at most one pending frame, reduced to quarter size (never a reference to an input), and
 * recycles that state's memory between pairs. Every pushed frame owns a fresh buffer: downstream copies tiles
 * out of it asynchronously.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { bytesPerPixel, isDType, viewPixels, type DType, type PixelArray } from '../dtype.js';
import type { FrameInput, FrameMessage } from '../messages.js';
import { isFrameMessage, normalizeFrame } from '../frames/normalize.js';
import type { FrameShape } from '../chunking/layout.js';
import { assertLevelShapes, describe, levelShapes, shapeText } from '../downsample/levels.js';
import { parseDownsampleMethod, reducerFor, type DownsampleMethod, type Pending, type Reducer } from '../downsample/reduce.js';

export interface DownsamplerOptions {
  /** Number of levels, level 0 included (shapes follow from the first frame), or the shapes from pyramidShapes. */
  levels: number | readonly FrameShape[];
  /** Default 'mean'. */
  method?: DownsampleMethod;
  /**
   * With level shapes given, the dtype of the frames: then the Downsampler may come first in a pipeline and take
   * what a user's source pushes (Frame objects, bare TypedArrays or Buffers), validated as TileSplitter does.
   */
  dtype?: DType;
}

interface Level {
  shape: FrameShape;
  /** Next t to emit at this level. */
  t: number;
  /** The first frame of an incomplete pair, already reduced in space. */
  pending: Pending | undefined;
  /** A consumed pending state whose memory the next begin() may reuse (never a pushed buffer). */
  spare: Pending | undefined;
}

export class Downsampler extends Transform {
  readonly method: DownsampleMethod;
  private readonly levelCount: number;
  private readonly fixedShapes: readonly FrameShape[] | undefined;
  private levels: Level[] = [];
  private dtype: DType | undefined;
  private reducer: Reducer | undefined;
  private readonly inputDType: DType | undefined;
  /** Index of the next input frame, for error messages and the FrameMessage of a bare input. */
  private nextInput = 0;

  constructor(options: DownsamplerOptions) {
    // Every queued message pins a whole frame: keep the queues to a frame or two.
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: 2 });
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Downsampler options must be an object; got ${describe(options)}`);
    }
    this.method = parseDownsampleMethod(options.method, 'method');
    if (options.dtype !== undefined && !isDType(options.dtype)) throw new TypeError(`dtype must be a supported dtype; got ${describe(options.dtype)}`);
    this.inputDType = options.dtype;
    if (typeof options.levels === 'number') {
      if (!Number.isSafeInteger(options.levels) || options.levels < 1) {
        throw new RangeError(`levels must be a positive integer; got ${describe(options.levels)}`);
      }
      this.levelCount = options.levels;
    } else {
      assertLevelShapes(options.levels, 'levels');
      this.fixedShapes = options.levels.map((s) => ({ width: s.width, height: s.height, planes: s.planes }));
      this.levelCount = this.fixedShapes.length;
    }
  }

  /** The level shapes, once known (from the options or the first frame). */
  get shapes(): FrameShape[] | undefined {
    const known = this.fixedShapes ?? (this.levels.length ? this.levels.map((l) => l.shape) : undefined);
    return known?.map((s) => ({ ...s }));
  }

  override _transform(input: FrameMessage | FrameInput, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const base = this.fixedShapes?.[0];
      const message = isFrameMessage(input) || !base || !this.inputDType ? (input as FrameMessage) : normalizeFrame(input, this.nextInput, { ...base, dtype: this.inputDType });
      this.nextInput++;
      this.accept(message);
    } catch (err) {
      callback(asError(err));
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    try {
      // Upward, so an unpaired frame finished at level l can still pair with (or be finished at) level l+1.
      for (let level = 0; level < this.levels.length - 1; level++) {
        const pending = this.levels[level].pending;
        if (pending === undefined) continue;
        this.levels[level].pending = undefined;
        this.emitLevel(level + 1, this.reducer!.single(pending));
      }
    } catch (err) {
      callback(asError(err));
      return;
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.levels = [];
    callback(error);
  }

  private accept(message: FrameMessage): void {
    this.check(message);
    this.push(message);
    // With one level the Downsampler only validates; the typed view (a copy when misaligned) is not needed.
    if (this.levelCount > 1) this.fold(0, viewAligned(this.dtype!, message.bytes, bytesPerPixel(this.dtype!)));
  }

  /** Validates a level-0 frame (the first one fixes dtype and shapes). */
  private check(message: FrameMessage): void {
    if (typeof message !== 'object' || message === null || message.kind !== 'frame') {
      throw new TypeError(`Downsampler expects FrameMessages ({kind: 'frame', ...}); got ${describe(message)}`);
    }
    if (message.level !== 0) throw new RangeError(`Downsampler expects level-0 frames; got level ${describe(message.level)} (t=${message.t})`);
    if (!isDType(message.dtype)) throw new TypeError(`frame dtype must be a supported dtype; got ${describe(message.dtype)} (t=${message.t})`);
    if (this.dtype === undefined) this.start(message);
    if (message.dtype !== this.dtype) {
      throw new TypeError(`frame dtype must stay ${this.dtype} for the whole stream; got ${message.dtype} at t=${message.t}`);
    }
    const shape = this.levels[0].shape;
    for (const key of ['width', 'height', 'planes'] as const) {
      if (message[key] !== shape[key]) {
        throw new RangeError(`frame ${key} must be ${shape[key]} (level 0 is ${shapeText(shape)}); got ${describe(message[key])} at t=${message.t}`);
      }
    }
    const bpp = bytesPerPixel(this.dtype!);
    const expected = shape.width * shape.height * shape.planes * bpp;
    if (!(message.bytes instanceof Uint8Array) || message.bytes.byteLength !== expected) {
      const got = message.bytes instanceof Uint8Array ? `${message.bytes.byteLength} bytes` : describe(message.bytes);
      throw new RangeError(`frame bytes must hold ${expected} bytes (${shapeText(shape)}, ${this.dtype}); got ${got} at t=${message.t}`);
    }
  }

  private start(first: FrameMessage): void {
    const frame = { width: first.width, height: first.height, planes: first.planes };
    let shapes: FrameShape[];
    if (this.fixedShapes) {
      shapes = this.fixedShapes.map((s) => ({ ...s }));
    } else {
      shapes = levelShapes(frame, this.levelCount);
    }
    this.dtype = first.dtype;
    this.reducer = reducerFor(first.dtype, this.method);
    this.levels = shapes.map((shape) => ({ shape, t: 0, pending: undefined, spare: undefined }));
  }

  /** A frame of `level` has been emitted: keep it for its partner, or complete the pair into the next level. */
  private fold(level: number, pixels: PixelArray): void {
    if (level + 1 >= this.levels.length) return;
    const state = this.levels[level];
    const reducer = this.reducer!;
    if (state.pending === undefined) {
      state.pending = reducer.begin(pixels, state.shape, state.spare);
      state.spare = undefined;
      return;
    }
    const pending = state.pending;
    state.pending = undefined;
    const next = reducer.pair(pending, pixels, state.shape);
    if (reducer.reusesPairedState) state.spare = pending;
    this.emitLevel(level + 1, next);
  }

  private emitLevel(level: number, pixels: PixelArray): void {
    const state = this.levels[level];
    const frame: FrameMessage = {
      kind: 'frame',
      level,
      t: state.t++,
      width: state.shape.width,
      height: state.shape.height,
      planes: state.shape.planes,
      dtype: this.dtype!,
      bytes: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength),
    };
    this.push(frame);
    this.fold(level, pixels);
  }
}

/** Typed arrays need aligned offsets; a misaligned input (e.g. a slice of a pooled Buffer) is read from a copy. */
function viewAligned(dtype: DType, bytes: Uint8Array, bpp: number): PixelArray {
  if (bytes.byteOffset % bpp === 0) return viewPixels(dtype, bytes);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return viewPixels(dtype, copy);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
