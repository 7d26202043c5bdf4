/**
 * Pure builders of the OME-NGFF image metadata of the root group: `.zattrs` (Zarr v2, NGFF 0.4) and the
 * `attributes` of the root `zarr.json` (Zarr v3, NGFF 0.5). Written for every dataset, one level or many.
 *
 * Arrays are (t, c, y, x) and level l lives at path `${l}`. Level l is downsampled by 2^l in t, y and x (see
 * Downsampler), so its scale is 2^l frames in t and 2^l pixel sizes in y and x. No translation is written:
 * like most pyramid writers we place level l's pixel at the corner of its block, not its center.
 * The frame interval is unknown here, so t carries no unit (units are optional in both versions).
 */
import { DEFAULT_DOWNSAMPLE_METHOD, parseDownsampleMethod, type DownsampleMethod } from '../downsample/reduce.js';
import { describeValue } from '../util/describe-value.js';
import { SHORTHAND_NAMES } from '../chunking/layout.js';

export interface OmeOptions {
  /** Number of levels, level 0 included (1 when multiscale is off). */
  levels: number;
  /** Size of a level-0 pixel in micrometers; default {x: 1, y: 1}. */
  pixelScaleUm?: { x: number; y: number };
  method?: DownsampleMethod;
  /** The image's name; default "image". */
  name?: string;
  /** Whether each level pairs frames in time (the shorthand's default, true): without it t keeps scale 1. */
  downsampleTime?: boolean;
  /**
   * N-D arrays (`dimensions`): the axes, storage order, and each level's scale along them, instead of the
   * shorthand's (t, c, y, x) with pixelScaleUm; `factors` says which axes a level halves.
   */
  dimensions?: { axes: OmeAxis[]; scales: number[][]; factors: Record<string, number> };
}

/** The axes' names, in array dimension order; also what a v3 array's `dimension_names` must match (NGFF 0.5). */
export const OME_AXIS_NAMES = SHORTHAND_NAMES;

export interface OmeAxis {
  name: string;
  /** Absent for a custom ("other") axis. */
  type?: 'time' | 'channel' | 'space';
  unit?: string;
}

export interface OmeDataset {
  path: string;
  coordinateTransformations: [{ type: 'scale'; scale: number[] }];
}

export interface OmeMultiscale {
  name: string;
  axes: OmeAxis[];
  datasets: OmeDataset[];
  /** The downscaling method. */
  type: DownsampleMethod;
  metadata: {
    description: string;
    method: string;
    kwargs: Record<string, unknown>;
  };
}

export interface OmeMultiscaleV04 extends OmeMultiscale {
  version: '0.4';
}

/** Content of the v2 root `.zattrs`. */
export interface OmeAttributesV2 {
  multiscales: [OmeMultiscaleV04];
}

/** Content of the v3 root `zarr.json` `attributes`: 0.5 namespaces everything under `ome`, version included. */
export interface OmeAttributesV3 {
  ome: { version: '0.5'; multiscales: [OmeMultiscale] };
}

export function omeAttributesV2(options: OmeOptions): OmeAttributesV2 {
  const { name, ...rest } = omeMultiscale(options);
  // `version` inside the multiscale is 0.4's place for it; listed first to be read first.
  return { multiscales: [{ version: '0.4', name, ...rest }] };
}

export function omeAttributesV3(options: OmeOptions): OmeAttributesV3 {
  return { ome: { version: '0.5', multiscales: [omeMultiscale(options)] } };
}

/** The version-independent multiscale entry. */
export function omeMultiscale(options: OmeOptions): OmeMultiscale {
  if (typeof options !== 'object' || options === null) throw new TypeError(`OME metadata options must be an object; got ${describeValue(options)}`);
  const { levels } = options;
  if (!Number.isSafeInteger(levels) || levels < 1 || levels > 64) {
    throw new RangeError(`levels must be an integer from 1 to 64; got ${describeValue(levels)}`);
  }
  const scale = options.pixelScaleUm ?? { x: 1, y: 1 };
  if (typeof scale !== 'object' || scale === null) throw new TypeError(`pixelScaleUm must be {x, y} in micrometers; got ${describeValue(scale)}`);
  for (const key of ['x', 'y'] as const) {
    if (typeof scale[key] !== 'number' || !Number.isFinite(scale[key]) || scale[key] <= 0) {
      throw new RangeError(`pixelScaleUm.${key} must be a positive finite number of micrometers; got ${describeValue(scale[key])}`);
    }
  }
  const method = parseDownsampleMethod(options.method ?? DEFAULT_DOWNSAMPLE_METHOD, 'method');
  const name = options.name ?? 'image';
  if (typeof name !== 'string') throw new TypeError(`name must be a string; got ${describeValue(name)}`);

  const timeFactor = options.downsampleTime === false ? 1 : 2;
  const factors = options.dimensions ? { ...options.dimensions.factors } : { t: timeFactor, c: 1, y: 2, x: 2 };
  const datasets: OmeDataset[] = [];
  for (let level = 0; level < levels; level++) {
    const factor = 2 ** level;
    const levelScale = options.dimensions ? options.dimensions.scales[level]! : [timeFactor ** level, 1, factor * scale.y, factor * scale.x];
    datasets.push({ path: String(level), coordinateTransformations: [{ type: 'scale', scale: [...levelScale] }] });
  }
  const dims = options.dimensions;
  return {
    name,
    axes: dims
      ? dims.axes.map((axis) => ({ ...axis }))
      : [
          { name: 't', type: 'time' },
          { name: 'c', type: 'channel' },
          { name: 'y', type: 'space', unit: 'micrometer' },
          { name: 'x', type: 'space', unit: 'micrometer' },
        ],
    datasets,
    type: method,
    metadata: {
      description: timeFactor === 2 && !dims ? describePyramid(method, levels) : describeLevels(method, levels, factors),
      method: 'zarr-stream Downsampler',
      kwargs: { method, factors, levels },
    },
  };
}

/** The description of an N-D pyramid: which axes each level halves. */
function describeLevels(method: DownsampleMethod, levels: number, factors: Record<string, number>): string {
  if (levels === 1) return 'zarr-stream Downsampler: one full-resolution level; no downsampling';
  const halved = Object.keys(factors).filter((axis) => factors[axis] === 2);
  return (
    `zarr-stream Downsampler: each level is the ${method} of 2 along each of ${halved.join(', ')} of the level below ` +
    '(an axis reaching 1 is no longer halved; see the scales); an odd edge repeats its last element'
  );
}

const REDUCTION: Record<DownsampleMethod, string> = {
  mean: '2x2x2 (t, y, x) mean of the level below; integer means round half up, float means are exact',
  min: '2x2x2 (t, y, x) minimum of the level below',
  max: '2x2x2 (t, y, x) maximum of the level below',
  decimate: 'every second frame, row and column of the level below (the first of each 2x2x2 block)',
};

function describePyramid(method: DownsampleMethod, levels: number): string {
  if (levels === 1) return 'zarr-stream Downsampler: one full-resolution level; no downsampling';
  return (
    `zarr-stream Downsampler: each level is the ${REDUCTION[method]}; ` +
    'channels are not downsampled; an odd y/x edge repeats its last row/column; ' +
    'a frame left unpaired at the end of the stream is reduced in y and x only'
  );
}
