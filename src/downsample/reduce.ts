/**
 * Pure 2x2x2 (t or z, y, x) reductions of frames, per dtype family. Planes are never mixed.
 *
 * A reducer works in three steps so a level never holds a full-resolution frame: `begin` reduces the first
 * frame of a pair 2x2 in space into a quarter-size pending state (for means: the un-rounded sums), `pair`
 * folds the partner in and rounds once, `single` finishes a frame that has no partner (at the end of the stream,
 * or the last of an odd number of z planes).
 * Odd x/y edges repeat their last column/row, so an edge pixel counts twice in its block (the seed driver's
 * padding). Every output is a newly allocated array: consumers read pushed frames asynchronously, so an output
 * buffer is never reused.
 *
 * Hot loops are written per family (not through callbacks) and index typed arrays directly: in one pipeline a
 * kernel only ever sees one dtype, so V8 keeps its element accesses monomorphic.
 */
import { DTYPES, allocPixels, isDType, type DType, type PixelArray } from '../dtype.js';
import type { FrameShape } from '../chunking/layout.js';
import { halfShape } from './levels.js';
import { nativeKernels } from './native-kernels.js';
import { describeValue } from '../util/describe-value.js';

export const DOWNSAMPLE_METHODS = ['mean', 'min', 'max', 'decimate'] as const;
export type DownsampleMethod = (typeof DOWNSAMPLE_METHODS)[number];
export const DEFAULT_DOWNSAMPLE_METHOD: DownsampleMethod = 'mean';

/** `undefined` means the default (mean). `field` names the option in the error. */
export function parseDownsampleMethod(value: unknown, field = 'downsampleMethod'): DownsampleMethod {
  if (value === undefined) return DEFAULT_DOWNSAMPLE_METHOD;
  if (typeof value === 'string' && (DOWNSAMPLE_METHODS as readonly string[]).includes(value)) {
    return value as DownsampleMethod;
  }
  throw new RangeError(`${field} must be one of ${DOWNSAMPLE_METHODS.join(', ')}; got ${describeValue(value)}`);
}

type SmallPixels = Uint8Array | Int8Array | Uint16Array | Int16Array;
type NumberPixels = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;
type BigPixels = BigUint64Array | BigInt64Array;

declare const pendingBrand: unique symbol;
/** What a level keeps of the first frame of a pair; opaque, only the reducer that made it reads it. */
export type Pending = { readonly [pendingBrand]: true };

export interface Reducer {
  readonly dtype: DType;
  readonly method: DownsampleMethod;
  /**
   * Reduces the first frame of a pair (`shape` is its level's frame shape). Keeps no reference to `src`.
   * `spare`, a state of the same level that pair() has consumed, lends its memory: allocating (and faulting in)
   * a fresh quarter-size buffer measured ~1.5 ms per 4 MiB, a quarter of a 2048x2048 uint16 pair's reduction.
   */
  begin(src: PixelArray, shape: FrameShape, spare?: Pending): Pending | Promise<Pending>;
  /**
   * The next level's frame: `pending`'s frame and `src` reduced together. Compiled kernels answer with a promise
   * (they run off the main thread); `src` and `pending` must not change until it settles.
   */
  pair(pending: Pending, src: PixelArray, shape: FrameShape): PixelArray | Promise<PixelArray>;
  /** The next level's frame from a frame that has no partner: reduced in space only. */
  single(pending: Pending): PixelArray;
  /** Whether a state consumed by pair() may be handed back to begin() (false when pair() returns its memory). */
  readonly reusesPairedState: boolean;
  /** Whether a state consumed by single() may be handed back to begin() (false when single() returns its memory). */
  readonly reusesSingleState: boolean;
}

export interface ReducerOptions {
  /** Use the compiled kernels where they exist (8- and 16-bit means; see native-kernels.ts). Default true. */
  native?: boolean;
}

export function reducerFor(dtype: DType, method: DownsampleMethod, options: ReducerOptions = {}): Reducer {
  if (!isDType(dtype)) throw new TypeError(`dtype must be one of ${DTYPES.join(', ')}; got ${describeValue(dtype)}`);
  switch (method) {
    case 'mean':
      return meanReducer(dtype, options.native ?? true);
    case 'min':
    case 'max':
      return isBig(dtype) ? bigExtremeReducer(dtype, method) : extremeReducer(dtype, method);
    case 'decimate':
      return decimateReducer(dtype);
    default:
      return parseDownsampleMethod(method, 'method') as never;
  }
}

function isBig(dtype: DType): boolean {
  return dtype === 'uint64' || dtype === 'int64';
}

function quarterLength(shape: FrameShape): number {
  const half = halfShape(shape);
  return half.width * half.height * half.planes;
}

// ---------------------------------------------------------------------------------------------- means

/** The un-rounded sums of the first frame's 2x2 blocks. */
interface SumPending {
  sums: Int32Array | Float64Array;
  length: number;
}

function meanReducer(dtype: DType, native: boolean): Reducer {
  switch (dtype) {
    case 'uint8':
    case 'int8':
    case 'uint16':
    case 'int16': {
      // A sum of 8 such values fits an int32, so the half-up rounding is an exact arithmetic shift.
      const kernels = native ? nativeKernels() : null;
      if (kernels) {
        return numberMean(
          dtype,
          (n) => new Int32Array(n),
          (src, { width, height, planes }, sums) => kernels.sum2x2Async(src as SmallPixels, width, height, planes, sums),
          (sums, src, { width, height, planes }, out) => kernels.meanPairAsync(sums, src as SmallPixels, width, height, planes, out as SmallPixels),
          meanSingleSmall,
        );
      }
      return numberMean(dtype, (n) => new Int32Array(n), sum2x2Small, meanPairSmall, meanSingleSmall);
    }
    case 'uint32':
    case 'int32':
      // Sums of 8 stay below 2^36: exact in a double, and division by 8 is exact too.
      return numberMean(dtype, (n) => new Float64Array(n), sum2x2, meanPairWide, meanSingleWide);
    case 'float32':
    case 'float64':
      return numberMean(dtype, (n) => new Float64Array(n), sum2x2, meanPairFloat, meanSingleFloat);
    case 'uint64':
    case 'int64':
      return bigMean(dtype);
  }
}

function numberMean<S extends Int32Array | Float64Array>(
  dtype: DType,
  allocSums: (length: number) => S,
  sumKernel: (src: NumberPixels, shape: FrameShape, sums: S) => void | Promise<void>,
  pairKernel: (sums: S, src: NumberPixels, shape: FrameShape, out: NumberPixels) => void | Promise<void>,
  singleKernel: (sums: S, out: NumberPixels) => void,
): Reducer {
  return {
    dtype,
    method: 'mean',
    reusesPairedState: true,
    reusesSingleState: true,
    begin(src, shape, spare) {
      const length = quarterLength(shape);
      const old = spare as unknown as SumPending | undefined;
      const sums = old && old.length === length ? (old.sums as S) : allocSums(length);
      const state = { sums, length } satisfies SumPending as unknown as Pending;
      const done = sumKernel(src as NumberPixels, shape, sums);
      return done ? done.then(() => state) : state;
    },
    pair(pending, src, shape) {
      const p = pending as unknown as SumPending;
      const out = allocPixels(dtype, p.length) as NumberPixels;
      const done = pairKernel(p.sums as S, src as NumberPixels, shape, out);
      return done ? done.then(() => out) : out;
    },
    single(pending) {
      const p = pending as unknown as SumPending;
      const out = allocPixels(dtype, p.length) as NumberPixels;
      singleKernel(p.sums as S, out);
      return out;
    },
  };
}

function sum2x2(src: NumberPixels, shape: FrameShape, sums: Int32Array | Float64Array): void {
  const { width, height, planes } = shape;
  const outRows = (height + 1) >> 1;
  const pairs = width >> 1;
  const last = width - 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * width * height;
    for (let oy = 0; oy < outRows; oy++) {
      const r0 = plane + 2 * oy * width;
      const r1 = 2 * oy + 1 < height ? r0 + width : r0;
      for (let x = 0, end = 2 * pairs; x < end; x += 2) {
        sums[o++] = src[r0 + x] + src[r0 + x + 1] + src[r1 + x] + src[r1 + x + 1];
      }
      if (width & 1) sums[o++] = 2 * (src[r0 + last] + src[r1 + last]);
    }
  }
}

function sum2x2Small(src: NumberPixels, shape: FrameShape, sums: Int32Array): void {
  const words = blockWords(src, shape.width);
  if (!words) return sum2x2(src, shape, sums);
  if (src instanceof Uint16Array) return sum2x2U16Words(words, shape, sums);
  if (src instanceof Int16Array) return sum2x2I16Words(words, shape, sums);
  if (src instanceof Uint8Array) return sum2x2U8Words(words, shape, sums, 0);
  return sum2x2U8Words(words, shape, sums, INT8_FLIP);
}

/* Word kernels: 8- or 16-bit samples read as 32-bit words, so one load brings a block row's two samples (two
   blocks' rows, for 8-bit), and several blocks per iteration, since the loop's own overhead measured as much as
   its arithmetic. Together they made the 8- and 16-bit means 1.5-1.9x faster. A row holds whole words only when
   the width is a multiple of the samples per word and the view starts on a word; other layouts take the
   per-sample loops. */

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** `src` (8- or 16-bit) as little-endian words that start at its rows, or undefined. */
function blockWords(src: NumberPixels, width: number): Int32Array | undefined {
  const perWord = 4 / src.BYTES_PER_ELEMENT;
  if (!LITTLE_ENDIAN || perWord < 2 || width % perWord !== 0 || src.byteOffset & 3) return undefined;
  return new Int32Array(src.buffer, src.byteOffset, Math.floor(src.length / perWord));
}

function sum2x2U16Words(words: Int32Array, shape: FrameShape, sums: Int32Array): void {
  const { width, height, planes } = shape;
  const half = width >> 1;
  const outRows = (height + 1) >> 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * half * height;
    for (let oy = 0; oy < outRows; oy++) {
      let i = plane + 2 * oy * half;
      let j = 2 * oy + 1 < height ? i + half : i;
      const end = i + half;
      for (const end4 = end - 3; i < end4; i += 4, j += 4, o += 4) {
        const a0 = words[i], b0 = words[j], a1 = words[i + 1], b1 = words[j + 1];
        const a2 = words[i + 2], b2 = words[j + 2], a3 = words[i + 3], b3 = words[j + 3];
        sums[o] = (a0 & 0xffff) + (a0 >>> 16) + (b0 & 0xffff) + (b0 >>> 16);
        sums[o + 1] = (a1 & 0xffff) + (a1 >>> 16) + (b1 & 0xffff) + (b1 >>> 16);
        sums[o + 2] = (a2 & 0xffff) + (a2 >>> 16) + (b2 & 0xffff) + (b2 >>> 16);
        sums[o + 3] = (a3 & 0xffff) + (a3 >>> 16) + (b3 & 0xffff) + (b3 >>> 16);
      }
      for (; i < end; i++, j++, o++) {
        const a = words[i], b = words[j];
        sums[o] = (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16);
      }
    }
  }
}

/** sum2x2U16Words with the halves sign-extended. */
function sum2x2I16Words(words: Int32Array, shape: FrameShape, sums: Int32Array): void {
  const { width, height, planes } = shape;
  const half = width >> 1;
  const outRows = (height + 1) >> 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * half * height;
    for (let oy = 0; oy < outRows; oy++) {
      let i = plane + 2 * oy * half;
      let j = 2 * oy + 1 < height ? i + half : i;
      const end = i + half;
      for (const end4 = end - 3; i < end4; i += 4, j += 4, o += 4) {
        const a0 = words[i], b0 = words[j], a1 = words[i + 1], b1 = words[j + 1];
        const a2 = words[i + 2], b2 = words[j + 2], a3 = words[i + 3], b3 = words[j + 3];
        sums[o] = ((a0 << 16) >> 16) + (a0 >> 16) + ((b0 << 16) >> 16) + (b0 >> 16);
        sums[o + 1] = ((a1 << 16) >> 16) + (a1 >> 16) + ((b1 << 16) >> 16) + (b1 >> 16);
        sums[o + 2] = ((a2 << 16) >> 16) + (a2 >> 16) + ((b2 << 16) >> 16) + (b2 >> 16);
        sums[o + 3] = ((a3 << 16) >> 16) + (a3 >> 16) + ((b3 << 16) >> 16) + (b3 >> 16);
      }
      for (; i < end; i++, j++, o++) {
        const a = words[i], b = words[j];
        sums[o] = ((a << 16) >> 16) + (a >> 16) + ((b << 16) >> 16) + (b >> 16);
      }
    }
  }
}

/**
 * Flipping int8 sign bits reads them as offset binary (x + 128), unsigned, so the uint8 kernels serve int8 too:
 * a block's four samples then sum 512 too high.
 */
const INT8_FLIP = 0x80808080 | 0;

/**
 * A word holds two blocks' row halves: masking the odd bytes out of both rows leaves two 16-bit lanes that add
 * without carrying into each other (4 * 255 < 2^16), so one add does two blocks' columns at once.
 */
function sum2x2U8Words(words: Int32Array, shape: FrameShape, sums: Int32Array, flip: number): void {
  const { width, height, planes } = shape;
  const quarter = width >> 2;
  const outRows = (height + 1) >> 1;
  const bias = flip ? 4 * 128 : 0;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * quarter * height;
    for (let oy = 0; oy < outRows; oy++) {
      let i = plane + 2 * oy * quarter;
      let j = 2 * oy + 1 < height ? i + quarter : i;
      const end = i + quarter;
      for (const end2 = end - 1; i < end2; i += 2, j += 2, o += 4) {
        const a0 = words[i] ^ flip, b0 = words[j] ^ flip, a1 = words[i + 1] ^ flip, b1 = words[j + 1] ^ flip;
        const lanes0 = (a0 & 0xff00ff) + ((a0 >>> 8) & 0xff00ff) + (b0 & 0xff00ff) + ((b0 >>> 8) & 0xff00ff);
        const lanes1 = (a1 & 0xff00ff) + ((a1 >>> 8) & 0xff00ff) + (b1 & 0xff00ff) + ((b1 >>> 8) & 0xff00ff);
        sums[o] = (lanes0 & 0xffff) - bias;
        sums[o + 1] = (lanes0 >>> 16) - bias;
        sums[o + 2] = (lanes1 & 0xffff) - bias;
        sums[o + 3] = (lanes1 >>> 16) - bias;
      }
      for (; i < end; i++, j++, o += 2) {
        const a = words[i] ^ flip, b = words[j] ^ flip;
        const lanes = (a & 0xff00ff) + ((a >>> 8) & 0xff00ff) + (b & 0xff00ff) + ((b >>> 8) & 0xff00ff);
        sums[o] = (lanes & 0xffff) - bias;
        sums[o + 1] = (lanes >>> 16) - bias;
      }
    }
  }
}

/* The pair kernels repeat sum2x2's walk and fuse the partner's block into the pending sums, so the full-size
   frame is read once and the 8-sample mean is rounded once. */

function meanPairSmall(sums: Int32Array, src: NumberPixels, shape: FrameShape, out: NumberPixels): void {
  const words = blockWords(src, shape.width);
  if (words) {
    if (src instanceof Uint16Array) return meanPairU16Words(sums, words, shape, out);
    if (src instanceof Int16Array) return meanPairI16Words(sums, words, shape, out);
    if (src instanceof Uint8Array) return meanPairU8Words(sums, words, shape, out, 0);
    return meanPairU8Words(sums, words, shape, out, INT8_FLIP);
  }
  const { width, height, planes } = shape;
  const outRows = (height + 1) >> 1;
  const pairs = width >> 1;
  const last = width - 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * width * height;
    for (let oy = 0; oy < outRows; oy++) {
      const r0 = plane + 2 * oy * width;
      const r1 = 2 * oy + 1 < height ? r0 + width : r0;
      for (let x = 0, end = 2 * pairs; x < end; x += 2) {
        // floor((sum + 4) / 8): round half up, toward +infinity for negatives too (>> floors).
        out[o] = (sums[o] + src[r0 + x] + src[r0 + x + 1] + src[r1 + x] + src[r1 + x + 1] + 4) >> 3;
        o++;
      }
      if (width & 1) {
        out[o] = (sums[o] + 2 * (src[r0 + last] + src[r1 + last]) + 4) >> 3;
        o++;
      }
    }
  }
}

/* The word kernels of meanPairSmall: see sum2x2U16Words and sum2x2U8Words. */

function meanPairU16Words(sums: Int32Array, words: Int32Array, shape: FrameShape, out: NumberPixels): void {
  const { width, height, planes } = shape;
  const half = width >> 1;
  const outRows = (height + 1) >> 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * half * height;
    for (let oy = 0; oy < outRows; oy++) {
      let i = plane + 2 * oy * half;
      let j = 2 * oy + 1 < height ? i + half : i;
      const end = i + half;
      for (const end4 = end - 3; i < end4; i += 4, j += 4, o += 4) {
        const a0 = words[i], b0 = words[j], a1 = words[i + 1], b1 = words[j + 1];
        const a2 = words[i + 2], b2 = words[j + 2], a3 = words[i + 3], b3 = words[j + 3];
        out[o] = (sums[o] + (a0 & 0xffff) + (a0 >>> 16) + (b0 & 0xffff) + (b0 >>> 16) + 4) >> 3;
        out[o + 1] = (sums[o + 1] + (a1 & 0xffff) + (a1 >>> 16) + (b1 & 0xffff) + (b1 >>> 16) + 4) >> 3;
        out[o + 2] = (sums[o + 2] + (a2 & 0xffff) + (a2 >>> 16) + (b2 & 0xffff) + (b2 >>> 16) + 4) >> 3;
        out[o + 3] = (sums[o + 3] + (a3 & 0xffff) + (a3 >>> 16) + (b3 & 0xffff) + (b3 >>> 16) + 4) >> 3;
      }
      for (; i < end; i++, j++, o++) {
        const a = words[i], b = words[j];
        out[o] = (sums[o] + (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16) + 4) >> 3;
      }
    }
  }
}

function meanPairI16Words(sums: Int32Array, words: Int32Array, shape: FrameShape, out: NumberPixels): void {
  const { width, height, planes } = shape;
  const half = width >> 1;
  const outRows = (height + 1) >> 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * half * height;
    for (let oy = 0; oy < outRows; oy++) {
      let i = plane + 2 * oy * half;
      let j = 2 * oy + 1 < height ? i + half : i;
      const end = i + half;
      for (const end4 = end - 3; i < end4; i += 4, j += 4, o += 4) {
        const a0 = words[i], b0 = words[j], a1 = words[i + 1], b1 = words[j + 1];
        const a2 = words[i + 2], b2 = words[j + 2], a3 = words[i + 3], b3 = words[j + 3];
        out[o] = (sums[o] + ((a0 << 16) >> 16) + (a0 >> 16) + ((b0 << 16) >> 16) + (b0 >> 16) + 4) >> 3;
        out[o + 1] = (sums[o + 1] + ((a1 << 16) >> 16) + (a1 >> 16) + ((b1 << 16) >> 16) + (b1 >> 16) + 4) >> 3;
        out[o + 2] = (sums[o + 2] + ((a2 << 16) >> 16) + (a2 >> 16) + ((b2 << 16) >> 16) + (b2 >> 16) + 4) >> 3;
        out[o + 3] = (sums[o + 3] + ((a3 << 16) >> 16) + (a3 >> 16) + ((b3 << 16) >> 16) + (b3 >> 16) + 4) >> 3;
      }
      for (; i < end; i++, j++, o++) {
        const a = words[i], b = words[j];
        out[o] = (sums[o] + ((a << 16) >> 16) + (a >> 16) + ((b << 16) >> 16) + (b >> 16) + 4) >> 3;
      }
    }
  }
}

function meanPairU8Words(sums: Int32Array, words: Int32Array, shape: FrameShape, out: NumberPixels, flip: number): void {
  const { width, height, planes } = shape;
  const quarter = width >> 2;
  const outRows = (height + 1) >> 1;
  // The partner's flip bias comes off with the rounding term; the pending sums are already exact.
  const round = flip ? 4 - 4 * 128 : 4;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * quarter * height;
    for (let oy = 0; oy < outRows; oy++) {
      let i = plane + 2 * oy * quarter;
      let j = 2 * oy + 1 < height ? i + quarter : i;
      const end = i + quarter;
      for (const end2 = end - 1; i < end2; i += 2, j += 2, o += 4) {
        const a0 = words[i] ^ flip, b0 = words[j] ^ flip, a1 = words[i + 1] ^ flip, b1 = words[j + 1] ^ flip;
        const lanes0 = (a0 & 0xff00ff) + ((a0 >>> 8) & 0xff00ff) + (b0 & 0xff00ff) + ((b0 >>> 8) & 0xff00ff);
        const lanes1 = (a1 & 0xff00ff) + ((a1 >>> 8) & 0xff00ff) + (b1 & 0xff00ff) + ((b1 >>> 8) & 0xff00ff);
        out[o] = (sums[o] + (lanes0 & 0xffff) + round) >> 3;
        out[o + 1] = (sums[o + 1] + (lanes0 >>> 16) + round) >> 3;
        out[o + 2] = (sums[o + 2] + (lanes1 & 0xffff) + round) >> 3;
        out[o + 3] = (sums[o + 3] + (lanes1 >>> 16) + round) >> 3;
      }
      for (; i < end; i++, j++, o += 2) {
        const a = words[i] ^ flip, b = words[j] ^ flip;
        const lanes = (a & 0xff00ff) + ((a >>> 8) & 0xff00ff) + (b & 0xff00ff) + ((b >>> 8) & 0xff00ff);
        out[o] = (sums[o] + (lanes & 0xffff) + round) >> 3;
        out[o + 1] = (sums[o + 1] + (lanes >>> 16) + round) >> 3;
      }
    }
  }
}

function meanSingleSmall(sums: Int32Array, out: NumberPixels): void {
  for (let i = 0; i < out.length; i++) out[i] = (sums[i] + 2) >> 2;
}

function meanPairWide(sums: Float64Array, src: NumberPixels, shape: FrameShape, out: NumberPixels): void {
  const { width, height, planes } = shape;
  const outRows = (height + 1) >> 1;
  const pairs = width >> 1;
  const last = width - 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * width * height;
    for (let oy = 0; oy < outRows; oy++) {
      const r0 = plane + 2 * oy * width;
      const r1 = 2 * oy + 1 < height ? r0 + width : r0;
      for (let x = 0, end = 2 * pairs; x < end; x += 2) {
        out[o] = Math.floor((sums[o] + src[r0 + x] + src[r0 + x + 1] + src[r1 + x] + src[r1 + x + 1] + 4) * 0.125);
        o++;
      }
      if (width & 1) {
        out[o] = Math.floor((sums[o] + 2 * (src[r0 + last] + src[r1 + last]) + 4) * 0.125);
        o++;
      }
    }
  }
}

function meanSingleWide(sums: Float64Array, out: NumberPixels): void {
  for (let i = 0; i < out.length; i++) out[i] = Math.floor((sums[i] + 2) * 0.25);
}

function meanPairFloat(sums: Float64Array, src: NumberPixels, shape: FrameShape, out: NumberPixels): void {
  const { width, height, planes } = shape;
  const outRows = (height + 1) >> 1;
  const pairs = width >> 1;
  const last = width - 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * width * height;
    for (let oy = 0; oy < outRows; oy++) {
      const r0 = plane + 2 * oy * width;
      const r1 = 2 * oy + 1 < height ? r0 + width : r0;
      for (let x = 0, end = 2 * pairs; x < end; x += 2) {
        out[o] = (sums[o] + src[r0 + x] + src[r0 + x + 1] + src[r1 + x] + src[r1 + x + 1]) * 0.125;
        o++;
      }
      if (width & 1) {
        out[o] = (sums[o] + 2 * (src[r0 + last] + src[r1 + last])) * 0.125;
        o++;
      }
    }
  }
}

function meanSingleFloat(sums: Float64Array, out: NumberPixels): void {
  for (let i = 0; i < out.length; i++) out[i] = sums[i] * 0.25;
}

/**
 * 64-bit sums of 4 overflow 64 bits, so a pending block keeps floor(sum / 4) in the dtype itself and
 * sum mod 4 in a byte: exact, and 9 bytes per output pixel instead of a BigInt object each.
 */
interface BigSumPending {
  quarters: BigPixels;
  remainders: Uint8Array;
}

function bigMean(dtype: 'uint64' | 'int64'): Reducer {
  return {
    dtype,
    method: 'mean',
    reusesPairedState: true,
    reusesSingleState: true,
    begin(src, shape, spare) {
      const length = quarterLength(shape);
      const old = spare as unknown as BigSumPending | undefined;
      const reuse = old !== undefined && old.quarters.length === length;
      const quarters = reuse ? old.quarters : (allocPixels(dtype, length) as BigPixels);
      const remainders = reuse ? old.remainders : new Uint8Array(length);
      bigSum2x2(src as BigPixels, shape, quarters, remainders);
      return { quarters, remainders } satisfies BigSumPending as unknown as Pending;
    },
    pair(pending, src, shape) {
      const p = pending as unknown as BigSumPending;
      const out = allocPixels(dtype, p.quarters.length) as BigPixels;
      bigMeanPair(p, src as BigPixels, shape, out);
      return out;
    },
    single(pending) {
      const { quarters, remainders } = pending as unknown as BigSumPending;
      const out = allocPixels(dtype, quarters.length) as BigPixels;
      // floor((4q + r + 2) / 4) = q + (r >= 2): half up.
      for (let i = 0; i < out.length; i++) out[i] = remainders[i] >= 2 ? quarters[i] + 1n : quarters[i];
      return out;
    },
  };
}

function bigSum2x2(src: BigPixels, shape: FrameShape, quarters: BigPixels, remainders: Uint8Array): void {
  const { width, height, planes } = shape;
  const outRows = (height + 1) >> 1;
  const outCols = (width + 1) >> 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * width * height;
    for (let oy = 0; oy < outRows; oy++) {
      const r0 = plane + 2 * oy * width;
      const r1 = 2 * oy + 1 < height ? r0 + width : r0;
      for (let ox = 0; ox < outCols; ox++) {
        const x0 = 2 * ox;
        const x1 = x0 + 1 < width ? x0 + 1 : x0;
        const sum = src[r0 + x0] + src[r0 + x1] + src[r1 + x0] + src[r1 + x1];
        // BigInt >> floors and & sees two's complement, so sum = 4 * quarter + remainder holds for negatives.
        quarters[o] = sum >> 2n;
        remainders[o] = Number(sum & 3n);
        o++;
      }
    }
  }
}

function bigMeanPair(pending: BigSumPending, src: BigPixels, shape: FrameShape, out: BigPixels): void {
  const { quarters, remainders } = pending;
  const { width, height, planes } = shape;
  const outRows = (height + 1) >> 1;
  const outCols = (width + 1) >> 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * width * height;
    for (let oy = 0; oy < outRows; oy++) {
      const r0 = plane + 2 * oy * width;
      const r1 = 2 * oy + 1 < height ? r0 + width : r0;
      for (let ox = 0; ox < outCols; ox++) {
        const x0 = 2 * ox;
        const x1 = x0 + 1 < width ? x0 + 1 : x0;
        const sum = (quarters[o] << 2n) + BigInt(remainders[o] + 4) + src[r0 + x0] + src[r0 + x1] + src[r1 + x0] + src[r1 + x1];
        out[o] = sum >> 3n;
        o++;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------- min / max

function extremeReducer(dtype: DType, method: 'min' | 'max'): Reducer {
  // Math.min/max propagate NaN, which is what a float reduction over a NaN sample should give.
  const pick = method === 'max' ? Math.max : Math.min;
  return {
    dtype,
    method,
    reusesPairedState: true,
    // single() hands the pending block extremes out as the frame.
    reusesSingleState: false,
    begin(src, shape, spare) {
      const length = quarterLength(shape);
      const old = spare as unknown as NumberPixels | undefined;
      const out = old && old.length === length ? old : (allocPixels(dtype, length) as NumberPixels);
      extreme2x2(src as NumberPixels, shape, out, undefined, pick);
      return out as unknown as Pending;
    },
    pair(pending, src, shape) {
      const out = allocPixels(dtype, quarterLength(shape)) as NumberPixels;
      extreme2x2(src as NumberPixels, shape, out, pending as unknown as NumberPixels, pick);
      return out;
    },
    // The pending block extreme is already the answer, and nothing else holds that array.
    single: (pending) => pending as unknown as PixelArray,
  };
}

function extreme2x2(
  src: NumberPixels,
  shape: FrameShape,
  out: NumberPixels,
  partner: NumberPixels | undefined,
  pick: (...values: number[]) => number,
): void {
  const { width, height, planes } = shape;
  const outRows = (height + 1) >> 1;
  const outCols = (width + 1) >> 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * width * height;
    for (let oy = 0; oy < outRows; oy++) {
      const r0 = plane + 2 * oy * width;
      const r1 = 2 * oy + 1 < height ? r0 + width : r0;
      for (let ox = 0; ox < outCols; ox++) {
        const x0 = 2 * ox;
        const x1 = x0 + 1 < width ? x0 + 1 : x0;
        const block = pick(src[r0 + x0], src[r0 + x1], src[r1 + x0], src[r1 + x1]);
        out[o] = partner ? pick(partner[o], block) : block;
        o++;
      }
    }
  }
}

function bigExtremeReducer(dtype: DType, method: 'min' | 'max'): Reducer {
  const pick = method === 'max' ? (a: bigint, b: bigint) => (a > b ? a : b) : (a: bigint, b: bigint) => (a < b ? a : b);
  const reduce = (src: BigPixels, shape: FrameShape, partner: BigPixels | undefined, spare?: BigPixels): BigPixels => {
    const { width, height, planes } = shape;
    const length = quarterLength(shape);
    const out = spare && spare.length === length ? spare : (allocPixels(dtype, length) as BigPixels);
    const outRows = (height + 1) >> 1;
    const outCols = (width + 1) >> 1;
    let o = 0;
    for (let p = 0; p < planes; p++) {
      const plane = p * width * height;
      for (let oy = 0; oy < outRows; oy++) {
        const r0 = plane + 2 * oy * width;
        const r1 = 2 * oy + 1 < height ? r0 + width : r0;
        for (let ox = 0; ox < outCols; ox++) {
          const x0 = 2 * ox;
          const x1 = x0 + 1 < width ? x0 + 1 : x0;
          const block = pick(pick(src[r0 + x0], src[r0 + x1]), pick(src[r1 + x0], src[r1 + x1]));
          out[o] = partner ? pick(partner[o], block) : block;
          o++;
        }
      }
    }
    return out;
  };
  return {
    dtype,
    method,
    reusesPairedState: true,
    // single() hands the pending block extremes out as the frame.
    reusesSingleState: false,
    begin: (src, shape, spare) => reduce(src as BigPixels, shape, undefined, spare as unknown as BigPixels | undefined) as unknown as Pending,
    pair: (pending, src, shape) => reduce(src as BigPixels, shape, pending as unknown as BigPixels),
    single: (pending) => pending as unknown as PixelArray,
  };
}

// ---------------------------------------------------------------------------------------------- decimate

/** Keeps the top-left sample of each block of the pair's first frame; the partner is not read. */
function decimateReducer(dtype: DType): Reducer {
  return {
    dtype,
    method: 'decimate',
    reusesPairedState: false,
    reusesSingleState: false,
    begin(src, shape) {
      const out = allocPixels(dtype, quarterLength(shape));
      // Only copies elements, so number and BigInt arrays can share this loop.
      decimate2x2(src as unknown as ArrayLike<number>, shape, out as unknown as { [i: number]: number });
      return out as unknown as Pending;
    },
    pair: (pending) => pending as unknown as PixelArray,
    single: (pending) => pending as unknown as PixelArray,
  };
}

function decimate2x2(src: ArrayLike<number>, shape: FrameShape, out: { [i: number]: number }): void {
  const { width, height, planes } = shape;
  const outRows = (height + 1) >> 1;
  const outCols = (width + 1) >> 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * width * height;
    for (let oy = 0; oy < outRows; oy++) {
      const row = plane + 2 * oy * width;
      for (let ox = 0; ox < outCols; ox++) out[o++] = src[row + 2 * ox];
    }
  }
}
