/**
 * From resolved `dimensions` to the layouts of every pyramid level, and what the pyramid and the OME-NGFF metadata
 * need to know of them: which dimension each level halves, and each level's scale along every dimension. Pure.
 *
 * Every level halves y and x (rounded up). A space dimension among the outer ones (z) is halved too while it has
 * more than one plane, so space is downsampled 2x2x2; time only with `downsampleTime` (pairs of time points; then a
 * z cannot be halved in the same step, and is refused). Levels are added until a level's y, x (and halved z) fit in
 * one chunk, at most `maxLevels`.
 */
import { resolveLayout, type ArrayLayout, type FramePositions } from './layout.js';
import type { ResolvedDimensions } from './dimensions.js';
import type { DType } from '../dtype.js';
import type { PairingSpec } from '../downsample/pairing.js';


export interface DimensionLevels {
  layouts: ArrayLayout[];
  /** pairing[l] makes level l + 1 from level l. */
  pairing: PairingSpec[];
  /** Per level, the size of one step along each dimension (storage order), in the dimension's unit. */
  scales: number[][];
  /** Per level, the downsampling factor of each dimension relative to level 0. */
  factors: number[][];
}

export interface DimensionLevelOptions {
  multiscale: boolean;
  downsampleTime: boolean;
  /** Most levels, level 0 included. */
  maxLevels: number;
}

export function dimensionLevels(dims: ResolvedDimensions, dtype: DType, options: DimensionLevelOptions): DimensionLevels {
  const { all, acquisition } = dims;
  const n = all.length;
  const names = all.map((d) => d.name);
  // The outer dimension halved with y and x: a space dimension before them (z), if there is one.
  const zIndex = all.findIndex((d, i) => i > 0 && i < n - 2 && d.kind === 'space');
  let sizes = all.map((d) => d.size);
  let factors = all.map(() => 1);
  const layouts: ArrayLayout[] = [];
  const pairing: PairingSpec[] = [];
  const allFactors: number[][] = [];
  for (let level = 0; ; level++) {
    layouts.push(layoutOf(dims, sizes, dtype, level, names));
    allFactors.push(factors);
    const [height, width] = [sizes[n - 2]!, sizes[n - 1]!];
    const z = zIndex >= 0 ? sizes[zIndex]! : 1;
    const fits = height <= all[n - 2]!.chunk && width <= all[n - 1]!.chunk && (zIndex < 0 || z <= all[zIndex]!.chunk);
    if (!options.multiscale || fits || layouts.length >= options.maxLevels) break;
    const halved = zIndex >= 0 && z > 1 ? zIndex : options.downsampleTime ? 0 : -1;
    pairing.push({ sizes: sizes.slice(0, n - 2), acquisition: [...acquisition], halved });
    const next = sizes.map((size, i) => (i === halved || i >= n - 2 ? Math.ceil(size / 2) : size));
    factors = factors.map((f, i) => (i === halved || i >= n - 2 ? 2 * f : f));
    sizes = next;
  }
  return { layouts, pairing, scales: allFactors.map((f) => f.map((factor, i) => factor * all[i]!.scale)), factors: allFactors };
}

function layoutOf(dims: ResolvedDimensions, sizes: readonly number[], dtype: DType, level: number, names: readonly string[]): ArrayLayout {
  const { all, acquisition } = dims;
  const n = all.length;
  const positions: FramePositions = {
    outer: all.slice(1, n - 2).map((d, i) => ({ size: sizes[i + 1]!, chunk: d.chunk })),
    acquisition,
    names,
  };
  const frame = { planes: 1, height: sizes[n - 2]!, width: sizes[n - 1]! };
  const chunking = { tileWidth: all[n - 1]!.chunk, tileHeight: all[n - 2]!.chunk, tilePlanes: 1, framesPerChunk: all[0]!.chunk };
  return resolveLayout(frame, dtype, chunking, level, undefined, positions).layout;
}
