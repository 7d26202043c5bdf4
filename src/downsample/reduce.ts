/**
 * Pure 2x2x2 (t, y, x) reductions of frames, per dtype family. Planes are never mixed.
 *
 * A reducer works in three steps so a level never holds a full-resolution frame: `begin` reduces the first
 * frame of a pair 2x2 in space into a quarter-size pending state (for means: the un-rounded sums), `pair`
 * folds the partner in and rounds once, `single` finishes a frame left unpaired at the end of the stream.
 * Odd x/y edges repeat their last column/row, so an edge pixel counts twice in its block (the seed driver's
 * padding). Every output is a newly allocated array: consumers read pushed frames asynchronously, so an output
 * buffer is never reused.
 *
 * Hot loops are written per family (not through callbacks) and index typed arrays directly: in one pipeline a
 * kernel only ever sees one dtype, so V8 keeps its element accesses monomorphic.
 */
import { DTYPES, allocPixels, isDType, type DType, type PixelArray } from '../dtype.js';
import type { FrameShape } from '../chunking/layout.js';
import { describe, halfShape } from './levels.js';

export const DOWNSAMPLE_METHODS = ['mean', 'min', 'max', 'decimate'] as const;
export type DownsampleMethod = (typeof DOWNSAMPLE_METHODS)[number];
export const DEFAULT_DOWNSAMPLE_METHOD: DownsampleMethod = 'mean';

/** `undefined` means the default (mean). `field` names the option in the error. */
export function parseDownsampleMethod(value: unknown, field = 'downsampleMethod'): DownsampleMethod {
  if (value === undefined) return DEFAULT_DOWNSAMPLE_METHOD;
  if (typeof value === 'string' && (DOWNSAMPLE_METHODS as readonly string[]).includes(value)) {
    return value as DownsampleMethod;
  }
  throw new RangeError(`${field} must be one of ${DOWNSAMPLE_METHODS.join(', ')}; got ${describe(value)}`);
}

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
  begin(src: PixelArray, shape: FrameShape, spare?: Pending): Pending;
  /** The next level's frame: `pending`'s frame and `src` reduced together. */
  pair(pending: Pending, src: PixelArray, shape: FrameShape): PixelArray;
  /** The next level's frame from a frame that has no partner: reduced in space only. */
  single(pending: Pending): PixelArray;
  /** Whether a state consumed by pair() may be handed back to begin() (false when pair() returns its memory). */
  readonly reusesPairedState: boolean;
}

export function reducerFor(dtype: DType, method: DownsampleMethod): Reducer {
  if (!isDType(dtype)) throw new TypeError(`dtype must be one of ${DTYPES.join(', ')}; got ${describe(dtype)}`);
  switch (method) {
    case 'mean':
      return meanReducer(dtype);
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

function meanReducer(dtype: DType): Reducer {
  switch (dtype) {
    case 'uint8':
    case 'int8':
    case 'uint16':
    case 'int16':
      // A sum of 8 such values fits an int32, so the half-up rounding is an exact arithmetic shift.
      return numberMean(dtype, (n) => new Int32Array(n), meanPairSmall, meanSingleSmall);
    case 'uint32':
    case 'int32':
      // Sums of 8 stay below 2^36: exact in a double, and division by 8 is exact too.
      return numberMean(dtype, (n) => new Float64Array(n), meanPairWide, meanSingleWide);
    case 'float32':
    case 'float64':
      return numberMean(dtype, (n) => new Float64Array(n), meanPairFloat, meanSingleFloat);
    case 'uint64':
    case 'int64':
      return bigMean(dtype);
  }
}

function numberMean<S extends Int32Array | Float64Array>(
  dtype: DType,
  allocSums: (length: number) => S,
  pairKernel: (sums: S, src: NumberPixels, shape: FrameShape, out: NumberPixels) => void,
  singleKernel: (sums: S, out: NumberPixels) => void,
): Reducer {
  return {
    dtype,
    method: 'mean',
    reusesPairedState: true,
    begin(src, shape, spare) {
      const length = quarterLength(shape);
      const old = spare as unknown as SumPending | undefined;
      const sums = old && old.length === length ? (old.sums as S) : allocSums(length);
      sum2x2(src as NumberPixels, shape, sums);
      return { sums, length } satisfies SumPending as unknown as Pending;
    },
    pair(pending, src, shape) {
      const p = pending as unknown as SumPending;
      const out = allocPixels(dtype, p.length) as NumberPixels;
      pairKernel(p.sums as S, src as NumberPixels, shape, out);
      return out;
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

/* The pair kernels repeat sum2x2's walk and fuse the partner's block into the pending sums, so the full-size
   frame is read once and the 8-sample mean is rounded once. */

function meanPairSmall(sums: Int32Array, src: NumberPixels, shape: FrameShape, out: NumberPixels): void {
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
