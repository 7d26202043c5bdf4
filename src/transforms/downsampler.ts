/**
 * Builds the multiscale pyramid on the fly. Takes level-0 FrameMessages, passes each through unchanged and,
 * as pairs of frames complete, pushes the frames of levels 1..L-1 (each level counting its own t from 0).
 * By default level l+1 frame k is the 2x2x2 (t, y, x) reduction of level l frames 2k and 2k+1; a frame left
 * unpaired at the end of the stream is reduced in space only, so level l holds ceil(T / 2^l) frames. With
 * `pairing` (N-D arrays: frames are positions of outer dimensions such as c and z), frames pair by position
 * instead, e.g. z planes 2j and 2j+1 (see downsample/pairing.ts).
 *
 * Memory: a level keeps at most one pending frame (maxPending(pairing[l]) with `pairing`), reduced to quarter size
 * (never a reference to an input), and recycles that state's memory between pairs. Every pushed frame owns a fresh buffer: downstream copies tiles
 * out of it asynchronously.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { bytesPerPixel, isDType, viewPixels, type DType, type PixelArray } from '../dtype.js';
import type { FrameInput, FrameMessage } from '../messages.js';
import { chainFrame, isFrameMessage, normalizeFrame } from '../frames/normalize.js';
import { FrameCopies, FRAME_OWNERSHIPS, type FrameOwnership } from '../frames/frame-copies.js';
import { shareRelease } from '../util/shared-release.js';
import type { FrameShape } from '../chunking/layout.js';
import { assertLevelShapes, levelShapes, shapeText } from '../downsample/levels.js';
import { parseDownsampleMethod, type DownsampleMethod } from '../downsample/reduce.js';
import { PyramidBuilder } from '../downsample/pyramid.js';
import { assertPairingChain, type PairingSpec } from '../downsample/pairing.js';
import { DownsampleThread } from '../downsample/downsample-thread.js';
import { nativeReduction } from '../downsample/native-kernels.js';
import { describeValue } from '../util/describe-value.js';

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
  /**
   * Reduce on a worker thread, leaving the main thread to move tiles. Default: when there is more than one level,
   * a frame holds at least 1 MiB (below that, handing frames over costs more than it saves) and the reduction has
   * no compiled kernel here (a compiled 8- or 16-bit mean reads a frame in less time than copying it to a worker).
   */
  worker?: boolean;
  /**
   * Who owns a frame's buffer once it is written here. 'copy': each level-0 frame is copied into one of a bounded
   * pool of reused buffers as it enters, so the source may refill its buffer as soon as the frame's write callback
   * has run; a copy returns to the pool when its FrameMessage's `release` has been called by every holder (the
   * TileSplitter and what follows it do), so only use 'copy' with such consumers: with `frameBuffers` copies
   * unreleased, the next frame waits forever. 'transfer' (default here; zarrTransforms defaults to 'copy'): the
   * source hands the buffer over and never touches it again, and no copy is made.
   */
  frameOwnership?: FrameOwnership;
  /** 'copy': most frame copies alive at once, the pool's bound (waiting for one is backpressure). Default 8. */
  frameBuffers?: number;
  /**
   * Which frames pair, one spec per level transition (pairing[l] makes level l+1 from level l), for frames that are
   * positions of outer dimensions (e.g. t, c, z) in an acquisition order. Absent: consecutive frames pair (t halved).
   * Level shapes stay {width, height, planes}, x and y halved per level as without it.
   */
  pairing?: readonly PairingSpec[];
  /** Called with each level-0 frame's `metadata` (only for frames that carry it), in frame order. */
  onFrameMetadata?: (t: number, metadata: Record<string, unknown>) => void;
}

const DEFAULT_FRAME_BUFFERS = 8;

/** Frames from this size reduce on a worker thread by default (when no compiled kernel applies). */
export const WORKER_MIN_FRAME_BYTES = 2 ** 20;

export class Downsampler extends Transform {
  readonly method: DownsampleMethod;
  private readonly levelCount: number;
  private readonly fixedShapes: readonly FrameShape[] | undefined;
  private readonly workerOption: boolean | undefined;
  private levelShapes: FrameShape[] | undefined;
  private dtype: DType | undefined;
  private builder: PyramidBuilder | undefined;
  private thread: DownsampleThread | undefined;
  private usedWorker = false;
  private readonly inputDType: DType | undefined;
  private readonly frameBuffers: number | undefined;
  private readonly pairing: PairingSpec[] | undefined;
  private readonly onFrameMetadata: DownsamplerOptions['onFrameMetadata'];
  /** 'copy': the pool frames are copied into (made with the first frame, which fixes their size). */
  private copies: FrameCopies | undefined;
  /** Index of the next input frame, for error messages and the FrameMessage of a bare input. */
  private nextInput = 0;

  constructor(options: DownsamplerOptions) {
    // Every queued message pins a whole frame: keep the queues to a frame or two.
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: 2 });
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Downsampler options must be an object; got ${describeValue(options)}`);
    }
    this.method = parseDownsampleMethod(options.method, 'method');
    if (options.dtype !== undefined && !isDType(options.dtype)) throw new TypeError(`dtype must be a supported dtype; got ${describeValue(options.dtype)}`);
    if (options.worker !== undefined && typeof options.worker !== 'boolean') throw new TypeError(`worker must be true or false; got ${describeValue(options.worker)}`);
    const ownership = options.frameOwnership ?? 'transfer';
    if (!FRAME_OWNERSHIPS.includes(ownership)) throw new TypeError(`frameOwnership must be one of ${FRAME_OWNERSHIPS.join(', ')}; got ${describeValue(ownership)}`);
    const buffers = options.frameBuffers ?? DEFAULT_FRAME_BUFFERS;
    if (!Number.isSafeInteger(buffers) || buffers < 1) throw new RangeError(`frameBuffers must be a positive integer; got ${describeValue(options.frameBuffers)}`);
    this.frameBuffers = ownership === 'copy' ? buffers : undefined;
    this.inputDType = options.dtype;
    this.onFrameMetadata = options.onFrameMetadata;
    this.workerOption = options.worker;
    if (typeof options.levels === 'number') {
      if (!Number.isSafeInteger(options.levels) || options.levels < 1) {
        throw new RangeError(`levels must be a positive integer; got ${describeValue(options.levels)}`);
      }
      this.levelCount = options.levels;
    } else {
      assertLevelShapes(options.levels, 'levels');
      this.fixedShapes = options.levels.map((s) => ({ width: s.width, height: s.height, planes: s.planes }));
      this.levelCount = this.fixedShapes.length;
    }
    if (options.pairing !== undefined) {
      assertPairingChain(options.pairing, this.levelCount, 'pairing');
      // Plain copies: they cross to the worker thread, and later changes to the caller's objects must not leak in.
      this.pairing = options.pairing.map((spec) => ({ sizes: [...spec.sizes], acquisition: [...spec.acquisition], halved: spec.halved }));
    }
  }

  /** The level shapes, once known (from the options or the first frame). */
  get shapes(): FrameShape[] | undefined {
    return (this.fixedShapes ?? this.levelShapes)?.map((s) => ({ ...s }));
  }

  /** Whether the reductions run (or ran) on a worker thread; known once the first frame has arrived. */
  get threaded(): boolean {
    return this.usedWorker;
  }

  /** How many frame copies are alive now ('copy'; 0 with 'transfer'): held by some stage downstream. */
  get framesHeld(): number {
    return this.copies?.inUse ?? 0;
  }

  override _transform(input: FrameMessage | FrameInput, _encoding: BufferEncoding, callback: TransformCallback): void {
    let message: FrameMessage;
    try {
      message = this.accept(input);
    } catch (err) {
      callback(asError(err));
      return;
    }
    const copy = this.copies?.copy(message);
    if (copy instanceof Promise) copy.then((owned) => this.forward(owned, callback), callback);
    else this.forward(copy ?? message, callback);
  }

  /**
   * A source value as a validated level-0 FrameMessage numbered here. Only the chain's own messages are trusted;
   * anything else is validated in full, and a FrameMessage-shaped value (standalone use without `dtype`) gets the
   * next index whatever `t` it claims.
   */
  private accept(input: FrameMessage | FrameInput): FrameMessage {
    const base = this.fixedShapes?.[0];
    const t = this.nextInput;
    let message: FrameMessage;
    if (isFrameMessage(input)) message = input;
    else if (base && this.inputDType) message = normalizeFrame(input, t, { ...base, dtype: this.inputDType });
    else {
      const claimed = input as unknown as FrameMessage;
      this.check(claimed);
      message = chainFrame({ kind: 'frame', level: 0, t, width: claimed.width, height: claimed.height, planes: claimed.planes, dtype: claimed.dtype, bytes: claimed.bytes });
    }
    this.check(message);
    if (message.metadata !== undefined) this.onFrameMetadata?.(t, message.metadata);
    this.nextInput++;
    return message;
  }

  /** Passes a level-0 frame on, and reads it into the pyramid; calls back once the pyramid is done reading it. */
  private forward(message: FrameMessage, callback: TransformCallback): void {
    try {
      if (this.levelCount === 1) {
        // With one level the Downsampler only validates; the typed view (a copy when misaligned) is not needed.
        this.push(message);
        callback();
        return;
      }
      // Two holders of a pooled copy: the stages downstream, and the pyramid until it has read the frame.
      const release = message.release && shareRelease(message.release, 2);
      if (release) message.release = release;
      this.push(message);
      const read = (): void => {
        release?.();
        callback();
      };
      if (!this.thread) {
        // The next frame waits until this one is read: compiled kernels read it off the main thread, which
        // meanwhile moves the tiles of the frame just pushed.
        this.builder!.add(viewAligned(this.dtype!, message.bytes, bytesPerPixel(this.dtype!))).then(read, callback);
        return;
      }
      // The worker has two frame slots; waiting for one is this stage's backpressure.
      this.thread.add(message.bytes).then(read, callback);
    } catch (err) {
      callback(asError(err));
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.thread) {
      const thread = this.thread;
      thread.finish().then(
        () => thread.terminate().then(() => callback(), () => callback()),
        callback,
      );
      return;
    }
    if (!this.builder) {
      callback();
      return;
    }
    this.builder.finish().then(() => callback(), (err: unknown) => callback(asError(err)));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.builder = undefined;
    this.copies?.drain();
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) {
      callback(error);
      return;
    }
    thread.terminate().then(
      () => callback(error),
      () => callback(error),
    );
  }

  /** Validates a level-0 frame (the first one fixes dtype and shapes). */
  private check(message: FrameMessage): void {
    if (typeof message !== 'object' || message === null || message.kind !== 'frame') {
      throw new TypeError(`Downsampler expects FrameMessages ({kind: 'frame', ...}); got ${describeValue(message)}`);
    }
    if (message.level !== 0) throw new RangeError(`Downsampler expects level-0 frames; got level ${describeValue(message.level)} (t=${message.t})`);
    if (!isDType(message.dtype)) throw new TypeError(`frame dtype must be a supported dtype; got ${describeValue(message.dtype)} (t=${message.t})`);
    if (this.dtype === undefined) this.start(message);
    if (message.dtype !== this.dtype) {
      throw new TypeError(`frame dtype must stay ${this.dtype} for the whole stream; got ${message.dtype} at t=${message.t}`);
    }
    const shape = this.levelShapes![0]!;
    for (const key of ['width', 'height', 'planes'] as const) {
      if (message[key] !== shape[key]) {
        throw new RangeError(`frame ${key} must be ${shape[key]} (level 0 is ${shapeText(shape)}); got ${describeValue(message[key])} at t=${message.t}`);
      }
    }
    const bpp = bytesPerPixel(this.dtype!);
    const expected = shape.width * shape.height * shape.planes * bpp;
    if (!(message.bytes instanceof Uint8Array) || message.bytes.byteLength !== expected) {
      const got = message.bytes instanceof Uint8Array ? `${message.bytes.byteLength} bytes` : describeValue(message.bytes);
      throw new RangeError(`frame bytes must hold ${expected} bytes (${shapeText(shape)}, ${this.dtype}); got ${got} at t=${message.t}`);
    }
  }

  private start(first: FrameMessage): void {
    const frame = { width: first.width, height: first.height, planes: first.planes };
    const shapes = this.fixedShapes ? this.fixedShapes.map((s) => ({ ...s })) : levelShapes(frame, this.levelCount);
    this.dtype = first.dtype;
    this.levelShapes = shapes;
    const frameBytes = frame.width * frame.height * frame.planes * bytesPerPixel(first.dtype);
    if (this.frameBuffers !== undefined) this.copies = new FrameCopies(frameBytes, this.frameBuffers);
    if (shapes.length === 1) return;
    const emit = (level: number, t: number, bytes: Uint8Array): void => {
      const shape = shapes[level]!;
      this.push(chainFrame({ kind: 'frame', level, t, width: shape.width, height: shape.height, planes: shape.planes, dtype: first.dtype, bytes }));
    };
    if (this.workerOption ?? (frameBytes >= WORKER_MIN_FRAME_BYTES && !nativeReduction(first.dtype, this.method))) {
      this.usedWorker = true;
      this.thread = new DownsampleThread({ shapes, dtype: first.dtype, method: this.method, pairing: this.pairing }, frameBytes, emit, (error) => this.destroy(error));
    } else {
      this.builder = new PyramidBuilder(shapes, first.dtype, this.method, (level, t, pixels) =>
        emit(level, t, new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength)),
        { pairing: this.pairing },
      );
    }
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
