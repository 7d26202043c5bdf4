/**
 * The one list of option keys, and the check that refuses any other: an unknown key, at any depth, is an
 * OptionError naming its dotted path and the closest known key ("multiScale is not an option (did you mean
 * multiscale?)").
 */
import type { ChunkingOptions } from './chunking/layout.js';
import type { CompressionOptions, ZarrStreamOptions } from './options.js';
import type { S3Options } from './stores/s3-settings.js';
import { OptionError } from './option-error.js';
import { closestName } from './util/edit-distance.js';

/** Each option's key, with the keys of an object-valued option as a nested table. */
type KeyTable<T> = { readonly [K in keyof Required<T>]: true | Readonly<Record<string, true>> };

/**
 * Every option key, the one place they are listed: unknown keys are refused against this table. The compiler
 * checks it against ZarrStreamOptions, so a new option is one line here (and an object-valued one a nested table).
 */
export const OPTION_KEYS = {
  store: true,
  zarrVersion: true,
  device: true,
  compression: { codec: true, clevel: true, shuffle: true, blocksize: true, streamBlocks: true } satisfies KeyTable<CompressionOptions>,
  workers: true,
  engine: true,
  dtype: true,
  width: true,
  height: true,
  planes: true,
  chunking: { tileWidth: true, tileHeight: true, tilePlanes: true, maxBytesPerChunk: true, framesPerChunk: true } satisfies KeyTable<ChunkingOptions>,
  overwrite: true,
  onWarning: true,
  multiscale: true,
  downsampleMethod: true,
  pixelScaleUm: { x: true, y: true },
  name: true,
  maxMemory: true,
  frameOwnership: true,
  durable: true,
  frames: true,
  s3: { endpoint: true, region: true, forcePathStyle: true, requestChecksumCalculation: true, maxAttempts: true, idleTimeoutMs: true, maxConcurrentUploads: true } satisfies KeyTable<S3Options>,
  shardChunks: true,
  dimensions: true,
  acquisitionOrder: true,
  downsampleTime: true,
  maxLevels: true,
  attributes: true,
  path: true,
} as const satisfies KeyTable<ZarrStreamOptions>;

/** Throws an OptionError for a key that is not an option, naming its dotted path and the closest known key. */
export function checkKeys(options: object, table: Readonly<Record<string, unknown>>, prefix: string): void {
  for (const key of Object.keys(options)) {
    const known = table[key];
    const value = (options as Record<string, unknown>)[key];
    if (known === undefined) {
      const near = closestName(key, Object.keys(table));
      const field = prefix + key;
      throw new OptionError(field, value, 'a known option', `${field} is not an option${near ? ` (did you mean ${prefix}${near}?)` : ''}; known: ${Object.keys(table).join(', ')}`);
    }
    if (known !== true && typeof value === 'object' && value !== null && !Array.isArray(value)) checkKeys(value, known as Record<string, unknown>, `${prefix}${key}.`);
  }
}
