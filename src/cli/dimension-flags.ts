/**
 * `--dimensions name:size:chunk[:shard],...` (outermost first) and `--acquisition-order name,...`: the CLI's
 * spelling of the library's `dimensions` and `acquisitionOrder`. A dimension's kind follows from its name (t: time,
 * c: channel, x, y, z: space, anything else: other); space dimensions are in micrometers, y and x scaled by
 * --pixel-scale-y/x and z by --pixel-scale-z. Pure; values are checked again, field by field, by the library.
 */
import type { Dimension, DimensionKind } from '../chunking/dimensions.js';
import { FlagError } from './flag-values.js';

const KIND_OF_NAME: Record<string, DimensionKind> = { t: 'time', time: 'time', c: 'channel', channel: 'channel', x: 'space', y: 'space', z: 'space' };

/** Flags that describe the array in the shorthand's terms: --dimensions replaces them. */
export const SHORTHAND_FLAGS = ['width', 'height', 'planes', 'tile-width', 'tile-height', 'tile-planes', 'max-bytes-per-chunk', 'frames-per-chunk', 'shard-chunks'] as const;

export function parseDimensionsFlag(text: string, scale: { x: number; y: number; z: number }): Dimension[] {
  const example = 'e.g. t:0:64,c:2:1,z:40:8,y:2048:512,x:2048:512';
  return text.split(',').map((entry, i) => {
    const parts = entry.trim().split(':');
    if (parts.length < 3 || parts.length > 4) throw new FlagError(`--dimensions entry ${i + 1} must be name:size:chunk or name:size:chunk:shard (${example}), got ${JSON.stringify(entry)}`);
    const [name, ...numbers] = parts as [string, ...string[]];
    const [size, chunk, shard] = numbers.map((part, j) => {
      const value = /^\s*\d+\s*$/.test(part) ? Number(part) : NaN;
      if (!Number.isSafeInteger(value)) throw new FlagError(`--dimensions ${name}: ${['size', 'chunk', 'shard'][j]} must be an integer, got ${JSON.stringify(part)} (${example})`);
      return value;
    });
    const kind = KIND_OF_NAME[name] ?? 'other';
    const dimension: Dimension = { name, kind, size: size!, chunk: chunk! };
    if (shard !== undefined) dimension.shard = shard;
    if (kind === 'space') {
      dimension.unit = 'micrometer';
      dimension.scale = name === 'x' ? scale.x : name === 'y' ? scale.y : name === 'z' ? scale.z : 1;
    }
    return dimension;
  });
}

export function parseAcquisitionOrder(text: string): string[] {
  return text.split(',').map((name) => name.trim());
}
