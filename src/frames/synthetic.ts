/**
 * The project's standard synthetic frames (docs/synthetic-frames.md): smooth structure plus shot-like noise,
 * so that benchmarks compress like camera data and every figure compares with every other.
 */
import { Readable } from 'node:stream';
import { allocPixels, checkDType, type DType, type PixelArray } from '../dtype.js';
import type { Frame } from '../messages.js';

/** The formula's value at (t, y, x) before the per-dtype mapping: 100 .. 2163. */
export function syntheticValue(t: number, y: number, x: number): number {
  const a = tri(x + 8 * t, 512);
  const b = tri(y + 4 * t, 1024);
  const signal = (a * b) >> 6;
  let h = (Math.imul(x, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(t, 83492791)) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0x5bd1e995) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  return 100 + signal + (h & 15);
}

function tri(v: number, period: number): number {
  return Math.abs((v % period) - period / 2);
}

/** Maps the formula's value to a pixel of `dtype` in plane `c`, as workloads.md defines it. */
function pixelMapper(dtype: DType, c: number): (value: number) => number {
  if (dtype === 'uint8') return (v) => (v + 17 * c) & 255;
  if (dtype === 'int8') return (v) => ((v + 17 * c) & 255) - 128;
  return (v) => v + 1000 * c;
}

/**
 * Fills `out` (planes*height*width pixels, C order (c, y, x)) with synthetic frame `t`.
 * Integer stores wrap like C casts; 64-bit arrays get BigInt values.
 */
export function fillSyntheticFrame(t: number, width: number, height: number, planes: number, dtype: DType, out: PixelArray): PixelArray {
  const n = width * height * planes;
  if (out.length !== n) throw new RangeError(`out must hold ${n} pixels, got ${out.length}`);
  const row = new Float64Array(width);
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let c = 0; c < planes; c++) {
    const map = pixelMapper(dtype, c);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) row[x] = map(syntheticValue(t, y, x));
      const base = (c * height + y) * width;
      if (big) {
        const dest = out as BigInt64Array | BigUint64Array;
        for (let x = 0; x < width; x++) dest[base + x] = BigInt(row[x]!);
      } else {
        (out as Exclude<PixelArray, BigInt64Array | BigUint64Array>).set(row, base);
      }
    }
  }
  return out;
}

export function syntheticFrame(t: number, width: number, height: number, planes: number, dtype: DType): Frame {
  const data = fillSyntheticFrame(t, width, height, planes, dtype, allocPixels(dtype, width * height * planes));
  return { data, width, height, planes, dtype };
}

export interface SyntheticFramesOptions {
  frames: number;
  width: number;
  height: number;
  planes?: number;
  dtype: DType;
  /**
   * Generate every frame before the stream starts (as the benchmarks do, so the clock measures writing only).
   * Default false: frames are made on demand, so memory stays bounded by backpressure.
   */
  pregenerate?: boolean;
}

/** A Readable of the standard synthetic frames 0 .. frames-1, as `Frame` objects. */
export function syntheticFrames(options: SyntheticFramesOptions): Readable {
  const { frames, width, height, dtype } = options;
  const planes = options.planes ?? 1;
  for (const [field, value] of Object.entries({ frames, width, height, planes })) {
    if (!Number.isInteger(value) || value < (field === 'frames' ? 0 : 1)) {
      throw new RangeError(`syntheticFrames: ${field} must be a ${field === 'frames' ? 'non-negative' : 'positive'} integer, got ${value}`);
    }
  }
  checkDType(dtype, "syntheticFrames: dtype");
  if (options.pregenerate) {
    return Readable.from(Array.from({ length: frames }, (_, t) => syntheticFrame(t, width, height, planes, dtype)), { objectMode: true });
  }
  let t = 0;
  return new Readable({
    objectMode: true,
    highWaterMark: 2,
    read() {
      this.push(t < frames ? syntheticFrame(t++, width, height, planes, dtype) : null);
    },
  });
}
