/**
 * Contrast for previews: the 0.5 and 99.5 percentiles of a frame's values become black and white, so a few hot or
 * dead pixels do not flatten the picture. Pure functions over plain arrays of numbers.
 */

/**
 * The `low` and `high` percentiles (0..100) of `values`, NaN ignored: the value at rank round(p/100 * (n - 1)) of
 * the sorted values (nearest rank, no interpolation, so the limits are values the frame really has).
 * Undefined when every value is NaN.
 */
export function percentileLimits(values: ArrayLike<number>, low = 0.5, high = 99.5): { min: number; max: number } | undefined {
  const finite = Float64Array.from({ length: values.length }, (_, i) => values[i]!).filter((value) => !Number.isNaN(value));
  if (finite.length === 0) return undefined;
  finite.sort();
  const at = (p: number): number => finite[Math.round((p / 100) * (finite.length - 1))]!;
  return { min: at(low), max: at(high) };
}

/**
 * Maps `values` to 8-bit grey: min -> 0, max -> 255, linear between, clamped, rounded half up; NaN -> 0. When
 * max <= min, values above min are white and the rest black.
 */
export function stretchToBytes(values: ArrayLike<number>, min: number, max: number, out = new Uint8Array(values.length)): Uint8Array {
  const scale = max > min ? 255 / (max - min) : 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (Number.isNaN(value)) out[i] = 0;
    else if (scale === 0) out[i] = value > min ? 255 : 0;
    else out[i] = Math.min(255, Math.max(0, Math.floor((value - min) * scale + 0.5)));
  }
  return out;
}

/**
 * acc[i] = max(acc[i], values[i]) with NaN ignored: one frame at a time into a maximum projection. Start `acc` as
 * NaN; a pixel that is NaN in every frame stays NaN.
 */
export function maxInto(acc: Float64Array, values: ArrayLike<number>): Float64Array {
  for (let i = 0; i < acc.length; i++) {
    const value = values[i]!;
    if (Number.isNaN(value)) continue;
    if (Number.isNaN(acc[i]!) || value > acc[i]!) acc[i] = value;
  }
  return acc;
}
