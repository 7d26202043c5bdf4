/**
 * `zarr-stream preview <store>`: one frame of any readable Zarr array as an 8-bit greyscale PNG, contrast
 * stretched between the frame's 0.5 and 99.5 percentiles (or fixed limits), or the maximum projection over time.
 * zarrita.js reads the frame; fast-png encodes it.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import { encode } from 'fast-png';
import * as zarr from 'zarrita';
import { axisNames, omeImage } from '../inspect/describe.js';
import { storeNodes, StoreReadError } from '../inspect/store-nodes.js';
import { maxInto, percentileLimits, stretchToBytes } from '../inspect/stretch.js';
import { FlagError } from './flag-values.js';

export interface PreviewOptions {
  store: string;
  /** Pyramid level (index into the OME-NGFF datasets); default 0. */
  level: number;
  /** Index along t (the first axis not named c, z, y or x); default 0. */
  frame: number;
  /** Index along c; default 0. */
  plane: number;
  /** Index along z (a z-stack's plane); default 0. */
  z: number;
  /** Maximum projection over t instead of one frame. */
  mip: boolean;
  min?: number;
  max?: number;
  out: string;
}

export interface PreviewResult {
  out: string;
  array: string;
  width: number;
  height: number;
  /** The values that became black and white. */
  min: number;
  max: number;
  /** What was shown along each axis other than y and x: an index, or 'max' for the projection. */
  selection: Record<string, number | 'max'>;
}

/** A bad request (a level, index or limit the store does not have): the CLI prints it as one line. */
export class PreviewError extends Error {}

export async function writePreview(options: PreviewOptions): Promise<PreviewResult> {
  const root = path.resolve(options.store);
  const nodes = await storeNodes(root, { countStored: false });
  const arrays = nodes.filter((node) => node.kind === 'array');
  const image = nodes.map((node) => ({ node, ome: node.kind === 'group' ? omeImage(node.attributes) : undefined })).find((entry) => entry.ome);
  const levels = image ? image.ome!.datasets.map((dataset) => path.posix.join(image.node.path, dataset.path)) : arrays.map((node) => node.path);
  const arrayPath = levels[options.level];
  if (arrayPath === undefined) throw new PreviewError(`--level must be one of 0..${levels.length - 1} for ${root}, got ${options.level}`);
  const node = arrays.find((candidate) => candidate.path === arrayPath);
  if (!node) throw new StoreReadError(root, `the OME-NGFF metadata names level ${options.level} "${arrayPath}", which is not an array in the store`);
  const { shape, dimensionNames } = node.array!;
  if (shape.length < 2) throw new PreviewError(`array ${arrayPath} has ${shape.length} dimension(s); a preview needs y and x`);
  const names = axisNames(shape.length, image?.ome, dimensionNames);
  const array = await zarr.open(zarr.root(new FileSystemStore(root)).resolve(arrayPath.slice(1)), { kind: 'array' });
  const [height, width] = shape.slice(-2) as [number, number];

  const timeAxis = names.findIndex((name, axis) => axis < shape.length - 2 && !['c', 'z', 'y', 'x'].includes(name));
  const selection: Array<number | null> = names.map((name, axis) => {
    if (axis >= shape.length - 2) return null;
    const index = axis === timeAxis ? options.frame : name === 'c' ? options.plane : name === 'z' ? options.z : 0;
    if (index >= shape[axis]!) throw new PreviewError(`${axis === timeAxis ? '--frame' : name === 'c' ? '--plane' : name === 'z' ? '--z' : `index along ${name}`} must be below ${shape[axis]} for array ${arrayPath}, got ${index}`);
    return index;
  });
  if (options.mip && timeAxis < 0) throw new PreviewError(`--mip needs a time axis; array ${arrayPath} has axes (${names.join(', ')})`);

  const read = async (at: Array<number | null>): Promise<ArrayLike<number>> => {
    const { data } = await zarr.get(array, at);
    // 64-bit integers come back as BigInt arrays: a preview needs only their approximate value.
    return data instanceof BigInt64Array || data instanceof BigUint64Array ? Float64Array.from(data, Number) : (data as ArrayLike<number>);
  };
  let values: ArrayLike<number>;
  if (options.mip) {
    // One frame at a time: memory stays one frame plus the projection, whatever the length of the series.
    const acc = new Float64Array(width * height).fill(NaN);
    for (let t = 0; t < shape[timeAxis]!; t++) maxInto(acc, await read(selection.map((index, axis) => (axis === timeAxis ? t : index))));
    values = acc;
  } else {
    values = await read(selection);
  }
  const auto = options.min === undefined || options.max === undefined ? percentileLimits(values) : undefined;
  const min = options.min ?? auto?.min ?? 0;
  const max = options.max ?? auto?.max ?? 0;
  const png = encode({ width, height, data: stretchToBytes(values, min, max), depth: 8, channels: 1 });
  await writeFile(options.out, png);
  const shown: Record<string, number | 'max'> = {};
  names.forEach((name, axis) => {
    if (axis < shape.length - 2) shown[name] = options.mip && axis === timeAxis ? 'max' : selection[axis]!;
  });
  return { out: path.resolve(options.out), array: arrayPath, width, height, min, max, selection: shown };
}

/** The command's flags as yargs parsed them: the options, and --json. */
export interface PreviewArgs extends PreviewOptions {
  json: boolean;
}

/** The command: checks the flags, writes the PNG, says what it wrote. */
export async function runPreview(args: PreviewArgs): Promise<void> {
  for (const flag of ['level', 'frame', 'plane', 'z'] as const) {
    if (!Number.isSafeInteger(args[flag]) || args[flag] < 0) throw new FlagError(`--${flag} must be an integer >= 0, got ${JSON.stringify(args[flag])}`);
  }
  for (const flag of ['min', 'max'] as const) {
    if (args[flag] !== undefined && !Number.isFinite(args[flag])) throw new FlagError(`--${flag} must be a number, got ${JSON.stringify(args[flag])}`);
  }
  if ((args.min === undefined) !== (args.max === undefined)) throw new FlagError('--min and --max go together');
  const result = await writePreview(args);
  if (args.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(`wrote ${result.out}: ${result.width} x ${result.height} of array ${result.array} ${JSON.stringify(result.selection)}, black ${result.min}, white ${result.max}\n`);
}
