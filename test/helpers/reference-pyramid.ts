/**
 * An independent reference pyramid for tests: per-pixel loops over plain numbers (floats) or BigInts (every integer
 * dtype), explicit edge clamping, exact rational rounding. Deliberately shares no code with src/downsample.
 */
import { allocPixels, type DType, type PixelArray } from '../../src/dtype.js';
import type { FrameShape } from '../../src/chunking/layout.js';
import type { DownsampleMethod } from '../../src/downsample/reduce.js';

export type Value = number | bigint;
/** A frame as plain values, C order (c, y, x). */
export type RefFrame = Value[];

export const INT_RANGE: Partial<Record<DType, [bigint, bigint]>> = {
  uint8: [0n, 255n],
  int8: [-128n, 127n],
  uint16: [0n, 65535n],
  int16: [-32768n, 32767n],
  uint32: [0n, 4294967295n],
  int32: [-2147483648n, 2147483647n],
  uint64: [0n, 2n ** 64n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
};
export const isFloat = (dtype: DType) => dtype === 'float32' || dtype === 'float64';

// ------------------------------------------------------------------------------------------ reference

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function refReduce(values: Value[], dtype: DType, method: DownsampleMethod): Value {
  if (method === 'decimate') return values[0];
  if (isFloat(dtype)) {
    const nums = values as number[];
    let r: number;
    if (method === 'mean') {
      let sum = 0;
      for (const v of nums) sum += v;
      r = sum / nums.length;
    } else {
      r = nums[0];
      for (const v of nums) r = method === 'min' ? Math.min(r, v) : Math.max(r, v);
    }
    return dtype === 'float32' ? Math.fround(r) : r;
  }
  const ints = values as bigint[];
  if (method === 'mean') {
    let sum = 0n;
    for (const v of ints) sum += v;
    const n = BigInt(ints.length);
    // round half up = floor(sum / n + 1/2)
    return floorDiv(2n * sum + n, 2n * n);
  }
  let r = ints[0];
  for (const v of ints) if (method === 'min' ? v < r : v > r) r = v;
  return r;
}

/** Level l+1 from level l: frames 2k and 2k+1 (or 2k alone at the end), 2x2 blocks with clamped edges. */
export function refNextLevel(frames: RefFrame[], shape: FrameShape, dtype: DType, method: DownsampleMethod): { frames: RefFrame[]; shape: FrameShape } {
  const out: RefFrame[] = [];
  for (let k = 0; 2 * k < frames.length; k++) {
    const group = 2 * k + 1 < frames.length ? [frames[2 * k], frames[2 * k + 1]] : [frames[2 * k]];
    out.push(refReduceGroup(group, shape, dtype, method));
  }
  return { frames: out, shape: halfFrame(shape) };
}

/**
 * Level l+1 from level l of an N-D array of frames: `frames` in C order over the outer `sizes` (outermost first,
 * e.g. t, c, z), pairs 2j and 2j+1 along `axis` (an odd last coordinate alone; -1: every frame alone), 2x2 blocks
 * in y and x with clamped edges. The output is in C order over the returned sizes.
 */
export function refHalveArray(
  frames: RefFrame[],
  sizes: readonly number[],
  axis: number,
  shape: FrameShape,
  dtype: DType,
  method: DownsampleMethod,
): { frames: RefFrame[]; sizes: number[]; shape: FrameShape } {
  const outSizes = sizes.map((size, d) => (d === axis ? Math.ceil(size / 2) : size));
  const count = outSizes.reduce((a, b) => a * b, 1);
  const out: RefFrame[] = [];
  for (let i = 0; i < count; i++) {
    // Unravel i over outSizes, then ravel the (one or two) source positions over sizes.
    const position: number[] = [];
    for (let d = outSizes.length - 1, rest = i; d >= 0; d--) {
      position[d] = rest % outSizes[d];
      rest = Math.floor(rest / outSizes[d]);
    }
    const sources = axis < 0 ? [position] : [2 * position[axis], 2 * position[axis] + 1].filter((c) => c < sizes[axis]).map((c) => position.map((p, d) => (d === axis ? c : p)));
    const group = sources.map((source) => frames[source.reduce((index, p, d) => index * sizes[d] + p, 0)]);
    out.push(refReduceGroup(group, shape, dtype, method));
  }
  return { frames: out, sizes: outSizes, shape: halfFrame(shape) };
}

function halfFrame(shape: FrameShape): FrameShape {
  return { width: Math.ceil(shape.width / 2), height: Math.ceil(shape.height / 2), planes: shape.planes };
}

/** One frame of the next level from a group of one or two frames: each 2x2 block of every frame in one reduction. */
function refReduceGroup(group: RefFrame[], shape: FrameShape, dtype: DType, method: DownsampleMethod): RefFrame {
  const { width: W, height: H, planes: P } = shape;
  const { width: w, height: h } = halfFrame(shape);
  const next: RefFrame = [];
  for (let p = 0; p < P; p++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const samples: Value[] = [];
        for (const f of group) {
          for (const dy of [0, 1]) {
            for (const dx of [0, 1]) {
              const yy = Math.min(2 * y + dy, H - 1);
              const xx = Math.min(2 * x + dx, W - 1);
              samples.push(f[(p * H + yy) * W + xx]);
            }
          }
        }
        next.push(refReduce(samples, dtype, method));
      }
    }
  }
  return next;
}

export function refPyramid(frames: RefFrame[], shape: FrameShape, levels: number, dtype: DType, method: DownsampleMethod): RefFrame[][] {
  const pyramid = [frames];
  let current = { frames, shape };
  for (let l = 1; l < levels; l++) {
    current = refNextLevel(current.frames, current.shape, dtype, method);
    pyramid.push(current.frames);
  }
  return pyramid;
}

/** The reference pyramid of `frames` as one C-ordered (t, c, y, x) byte array per level: what a reader should return. */
export function refPyramidBytes(frames: readonly Uint8Array[], shape: FrameShape, levels: number, dtype: DType, method: DownsampleMethod): Array<{ frames: number; bytes: Uint8Array }> {
  return refPyramid(frames.map((f) => fromBytes(dtype, f)), shape, levels, dtype, method).map((level) => {
    const parts = level.map((frame) => toPixels(dtype, frame));
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let offset = 0;
    for (const p of parts) {
      bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
      offset += p.byteLength;
    }
    return { frames: level.length, bytes };
  });
}

export function toPixels(dtype: DType, values: RefFrame): PixelArray {
  const pixels = allocPixels(dtype, values.length);
  const big = dtype === 'uint64' || dtype === 'int64';
  for (let i = 0; i < values.length; i++) {
    (pixels as unknown as Value[])[i] = big ? BigInt(values[i]) : Number(values[i]);
  }
  return pixels;
}

export function fromBytes(dtype: DType, bytes: Uint8Array): Value[] {
  const copy = new Uint8Array(bytes); // aligned
  const pixels = new (allocPixels(dtype, 0).constructor as new (b: ArrayBuffer) => PixelArray)(copy.buffer);
  const isInt = !isFloat(dtype);
  return Array.from(pixels as ArrayLike<Value>, (v) => (isInt ? BigInt(v) : v));
}

