/**
 * The user-facing options of zarrTransforms(), and their validation: every bad value is refused with an error
 * naming the option and the value, before any stream exists or anything is written.
 */
import type { ArrayLayout, ChunkingOptions } from './chunking/layout.js';
import { DOWNSAMPLE_METHODS, type DownsampleMethod } from './downsample/reduce.js';
import { isDType, DTYPES, type DType } from './dtype.js';
import type { Dimension, ResolvedDimensions } from './chunking/dimensions.js';
import type { DimensionLevels } from './chunking/dimension-layouts.js';
import type { PairingSpec } from './downsample/pairing.js';
import type { ZarrVersion } from './metadata/zarr.js';
import { isStore, type Store } from './stores/store.js';
import { BLOSC_CNAMES, BLOSC_SHUFFLES, validateBloscOptions, type BloscCname, type BloscSettings, type BloscShuffle } from './codecs/blosc-settings.js';
import { resolveEngineName, type EngineName, type EnginePreference } from './codecs/engine.js';
import { DEVICES, DEVICE_NAMES, isDeviceName, type DeviceName } from './devices.js';
import { bytesPerPixel } from './dtype.js';
import { OptionError } from './option-error.js';
import { integer, resolveArrayLayouts } from './layout-options.js';
import { checkKeys, OPTION_KEYS } from './option-keys.js';
import { formatBytes } from './util/format-bytes.js';
import { virtualRootOf } from './stores/fs-checks.js';
import { isS3Url, parseS3Url } from './stores/s3-url.js';
import { resolveS3Options, type ResolvedS3Options, type S3Options } from './stores/s3-settings.js';
import { MIN_PART_BYTES } from './stores/s3-writer.js';
import { streamPlanOf } from './codecs/stream-plan.js';
import { accumulateModeOf, type AccumulateMode } from './transforms/chunk-accumulator.js';
import { nativeReduction } from './downsample/native-kernels.js';
import { WORKER_MIN_FRAME_BYTES } from './transforms/downsampler.js';
import { describeTerms, estimateResources, frameBytesOf, frameCopiesBound, maxConcurrentWritesFor, type ResourceEstimate } from './resources/estimate.js';
import { DEFAULT_MEMORY_FRACTION, MAX_WORKERS_PER_CORE, machineLimits, maxChunksPerFrame } from './resources/limits.js';

export { OptionError } from './option-error.js';
export { OPTION_KEYS } from './option-keys.js';
import { FRAME_OWNERSHIPS, type FrameOwnership } from './frames/frame-copies.js';
import { AttributeError, resolveAttributes, type JsonObject } from './metadata/attributes.js';
import { imagePathProblem } from './stores/prefixed-store.js';

/** Blosc1 compression of every chunk. */
export interface CompressionOptions {
  /** Required unless a device names the codec. */
  codec?: BloscCname;
  /** 0..9; default 1 (the seed devices' level). */
  clevel?: number;
  /** Default 'byte'. */
  shuffle?: BloscShuffle;
  /** Bytes per Blosc block; default 0 (c-blosc chooses). */
  blocksize?: number;
  /**
   * Compress each chunk's Blosc blocks as its frames arrive (where chunks cut into whole blocks), so no chunk is
   * held whole; for compressible data the files are the same as whole-chunk compression makes. Default true; false
   * compresses whole chunks (more memory, for comparison).
   */
  streamBlocks?: boolean;
}

export interface ZarrStreamOptions {
  /** A directory path (a FileSystemStore is made for it), an `s3://bucket/prefix` URL (an S3Store), or any Store. */
  store: string | Store;
  /** For an s3:// store: endpoint, region and the like (docs/usage.md); credentials come from the AWS SDK's chain. */
  s3?: S3Options;
  /** Default 3, or the device's. */
  zarrVersion?: ZarrVersion;
  /** One of the seed driver's six devices: sets zarrVersion and compression; explicit options refine it. */
  device?: DeviceName;
  /** Blosc1 compression, or 'none' (the default unless a device says otherwise). */
  compression?: CompressionOptions | 'none';
  /** Compression worker threads; default: the machine's cores. */
  workers?: number;
  /** Blosc engine: 'auto' (default: native c-blosc when built, else WebAssembly), 'native' or 'wasm'. */
  engine?: EnginePreference;
  dtype: DType;
  /** Frame width: the (t, c, y, x) shorthand; required unless `dimensions` is given. */
  width?: number;
  /** Frame height (shorthand); required unless `dimensions` is given. */
  height?: number;
  /** Planes (channels) per frame; default 1 (shorthand). */
  planes?: number;
  chunking?: ChunkingOptions;
  /**
   * An N-D array, dimension by dimension, outermost first (instead of width, height, planes, chunking,
   * pixelScaleUm and shardChunks): the first is the append dimension (size 0: unbounded), the last two the frame's y
   * and x; each frame is a 2-D image at the next position of the others in `acquisitionOrder`. docs/usage.md.
   */
  dimensions?: readonly Dimension[];
  /**
   * With `dimensions`: the order frames arrive in over every dimension but y and x, outermost first, by name (e.g.
   * ['t', 'z', 'c'] when channels alternate at each z). Default: the storage order. The append dimension comes first.
   */
  acquisitionOrder?: readonly string[];
  /** Multiscale: pair frames in time too (2x2x2 t, y, x). Default true for the shorthand, false with `dimensions`. */
  downsampleTime?: boolean;
  /** Multiscale: most levels, level 0 included. Default: until a level fits in one chunk. */
  maxLevels?: number;
  /**
   * Replace a Zarr store's contents. Default false: a non-empty store is an error. Only a Zarr store is replaced
   * (root metadata present), and only its Zarr keys are removed: anything else there is refused, named.
   */
  overwrite?: boolean;
  /**
   * For a directory path: fsync each chunk and metadata file before it is renamed into place, and its directory
   * after, so the metadata never claims what a power cut can take away (docs/reliability.md). Default true; false
   * for scratch data. A custom Store decides its own durability.
   */
  durable?: boolean;
  /** Called with each adjustment made to the options (also emitted as 'warning' on the sink). */
  onWarning?: (message: string) => void;
  /**
   * Write a pyramid: level l (array `l`) halves x and y and pairs frames in time, until a level's frame fits in
   * one tile. Default false (one level). OME-NGFF metadata is written either way.
   */
  multiscale?: boolean;
  /** How each level is made from the one below; default 'mean'. */
  downsampleMethod?: DownsampleMethod;
  /** Size of a level-0 pixel in micrometers, for the OME-NGFF scale; default { x: 1, y: 1 }. */
  pixelScaleUm?: { x: number; y: number };
  /** The OME-NGFF image name; default "image". */
  name?: string;
  /**
   * How many frames the source will give, when known (a file's frame count, the CLI's --frames). Chunks along t are
   * then no longer than that (level l: ceil(frames / 2^l)), so a short run is not padded to a chunk length made for
   * hours; an explicit chunking.framesPerChunk is kept. Only a hint for the layout: more or fewer frames are fine.
   */
  frames?: number;
  /**
   * Bytes of memory the write may use at its peak (estimateMemory()); options whose estimate exceeds it are refused
   * before anything is written. Default: half the machine's memory (os.totalmem() / 2).
   */
  maxMemory?: number;
  /**
   * Who owns a frame's buffer once it is pushed. 'copy' (default): frames are copied into a small pool of reused
   * buffers as they enter, so the source may refill its buffer once the frame's write callback has run (a camera's
   * ring buffer). 'transfer': the source hands the buffer over and never touches it again (no copy; e.g. a source
   * that makes a fresh buffer per frame, like syntheticFrames).
   */
  frameOwnership?: FrameOwnership;
  /**
   * Zarr v3 sharding: chunks per shard along (t, c, y, x), so many chunks are packed into one shard file (the
   * `sharding_indexed` codec). Every level is sharded; along c, y and x a shard is clipped to its level's chunk grid.
   * A shard row (shardChunks[0] chunk rows) is held in memory, compressed, until it is complete (docs/usage.md).
   * Not with zarrVersion 2. Default: no shards.
   */
  shardChunks?: readonly [number, number, number, number];
  /**
   * Custom attributes (a JSON object) of the image group, beside its OME-NGFF metadata (v3 `zarr.json` attributes,
   * v2 `.zattrs`); `ome` (and in v2 `multiscales`) is reserved. More can be set while writing: sinkOf(chain).setAttributes.
   */
  attributes?: Record<string, unknown>;
  /**
   * Write the image as a group at this path below the store's root ('pos0', or nested 'A/1/0'), so several images
   * (stage positions, wells) share one store; the root and each group above stay valid Zarr groups. The lock, the
   * emptiness check and overwrite then concern this path only. Default: the image is the root.
   */
  path?: string;
}


export interface ResolvedOptions {
  store: string | Store;
  /** How each level's frames pair into the next: by position (N-D, or no time pairing); undefined: consecutive. */
  pairing: PairingSpec[] | undefined;
  /** Whether levels pair frames in time (halve t): the OME-NGFF scales say so. */
  downsampleTime: boolean;
  /** With `dimensions`: how each level pairs frames into the next, and each level's OME-NGFF scale and axes. */
  dimensions: { resolved: ResolvedDimensions; levels: DimensionLevels } | undefined;
  /** For an s3:// store: its settings, defaults filled in. */
  s3: ResolvedS3Options | undefined;
  zarrVersion: ZarrVersion;
  dtype: DType;
  /** One per pyramid level; level 0 first. */
  layouts: ArrayLayout[];
  multiscale: boolean;
  downsampleMethod: DownsampleMethod;
  pixelScaleUm: { x: number; y: number };
  name: string;
  /** Blosc settings per level (typesize = dtype size), or undefined for raw chunks. */
  blosc: BloscSettings[] | undefined;
  /** The engine that will compress; undefined without compression. */
  engine: EngineName | undefined;
  workers: number | undefined;
  streamBlocks: boolean;
  overwrite: boolean;
  frameOwnership: FrameOwnership;
  durable: boolean;
  warnings: string[];
  /** Peak memory allowed (bytes), and what the write is estimated to need (estimateMemory). */
  maxMemory: number;
  estimate: ResourceEstimate;
  /** Custom attributes of the image group (a validated copy; {} when none). */
  attributes: JsonObject;
  /** The image's path below the root; undefined for the root. */
  path: string | undefined;
}

/**
 * Validates every option (throwing an OptionError that names the field) and resolves the layouts, then refuses
 * options that would need more memory than maxMemory or keep too many chunk files open: all before any I/O.
 */
export function resolveOptions(options: ZarrStreamOptions): ResolvedOptions {
  const resolved = resolveWithoutLimits(options);
  const { estimate, maxMemory, layouts } = resolved;
  const limits = machineLimits();
  const maxChunks = maxChunksPerFrame(limits);
  if (estimate.chunksPerFrame > maxChunks) {
    const grid = layouts[0]!.grid;
    throw new OptionError(
      'chunking',
      options.chunking,
      'fewer chunks per frame',
      `chunking makes ${estimate.chunksPerFrame} chunks per frame (level 0: ${grid.planes} x ${grid.height} x ${grid.width}${layouts.length > 1 ? `, ${layouts.length} levels` : ''}), ` +
        `more than the ${maxChunks} allowed (each is a file kept open until its chunk row completes; the open-file limit is ${limits.openFiles}): ` +
        `use larger tiles (chunking.tileWidth, tileHeight, tilePlanes)`,
    );
  }
  if (estimate.bytes > maxMemory) {
    throw new OptionError(
      'maxMemory',
      maxMemory,
      'enough for the estimate',
      `these options need an estimated ${formatBytes(estimate.bytes)} of memory (${describeTerms(estimate, formatBytes)}), more than maxMemory ${formatBytes(maxMemory)}` +
        `${options.maxMemory === undefined ? ` (${DEFAULT_MEMORY_FRACTION * 100}% of this machine's ${formatBytes(limits.totalMemory)})` : ''}: ` +
        `use smaller frames, tiles or chunks, fewer workers, or raise maxMemory`,
    );
  }
  return resolved;
}

/**
 * What a write with these options will hold at its peak (bytes, by term) and the files it keeps open, computed from
 * the resolved layouts without allocating. Throws an OptionError for invalid options, but not for exceeding
 * maxMemory: that is what this is for.
 */
export function estimateMemory(options: ZarrStreamOptions): ResourceEstimate {
  return resolveWithoutLimits(options).estimate;
}

function resolveWithoutLimits(options: ZarrStreamOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new OptionError('options', options, 'an object');
  checkKeys(options, OPTION_KEYS, '');
  const { store } = options;
  if (!(typeof store === 'string' && store.length > 0) && !isStore(store)) {
    throw new OptionError('store', store, 'a directory path or a Store (an object with set() and get())');
  }
  const s3 = isS3Url(store) ? (parseS3Url(store), resolveS3Options(options.s3)) : undefined;
  if (options.s3 !== undefined && !s3) throw new OptionError('s3', options.s3, 'given only with an s3://bucket/prefix store', `s3 options were given, but store is not an s3:// URL (got ${typeof store === 'string' ? JSON.stringify(store) : 'a Store object'})`);
  const virtualRoot = typeof store === 'string' && !s3 ? virtualRootOf(store) : undefined;
  if (virtualRoot) throw new OptionError('store', store, `a directory on a disk (${virtualRoot} is a virtual filesystem, which cannot hold a dataset)`);
  if (options.device !== undefined && !isDeviceName(options.device)) throw new OptionError('device', options.device, `one of ${DEVICE_NAMES.join(', ')}`);
  const device = options.device === undefined ? undefined : DEVICES[options.device];
  const zarrVersion = options.zarrVersion ?? device?.zarrVersion ?? 3;
  if (zarrVersion !== 2 && zarrVersion !== 3) throw new OptionError('zarrVersion', zarrVersion, '2 or 3');
  if (device && zarrVersion !== device.zarrVersion) throw new OptionError('zarrVersion', zarrVersion, `${device.zarrVersion} with device "${options.device}" (or choose another device)`);
  if (!isDType(options.dtype)) throw new OptionError('dtype', options.dtype, `one of ${DTYPES.join(', ')}`);
  const multiscale = options.multiscale ?? false;
  if (typeof multiscale !== 'boolean') throw new OptionError('multiscale', multiscale, 'true or false');
  const downsampleMethod = options.downsampleMethod ?? 'mean';
  if (!DOWNSAMPLE_METHODS.includes(downsampleMethod)) throw new OptionError('downsampleMethod', downsampleMethod, `one of ${DOWNSAMPLE_METHODS.join(', ')}`);
  const pixelScaleUm = options.pixelScaleUm ?? { x: 1, y: 1 };
  if (pixelScaleUm === null || typeof pixelScaleUm !== 'object') throw new OptionError('pixelScaleUm', pixelScaleUm, 'an object { x, y } in micrometers');
  for (const axis of ['x', 'y'] as const) {
    const value = pixelScaleUm[axis];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new OptionError(`pixelScaleUm.${axis}`, value, 'a positive number of micrometers');
  }
  const compression = resolveCompression(options.compression, device?.codec);
  const { cores, totalMemory } = machineLimits();
  if (options.workers !== undefined) integer('workers', options.workers, 1);
  if (options.workers !== undefined && options.workers > MAX_WORKERS_PER_CORE * cores) {
    throw new OptionError('workers', options.workers, `at most ${MAX_WORKERS_PER_CORE * cores} (${MAX_WORKERS_PER_CORE} per core; this machine has ${cores})`);
  }
  const maxMemory = options.maxMemory ?? Math.floor(totalMemory * DEFAULT_MEMORY_FRACTION);
  if (typeof maxMemory !== 'number' || Number.isNaN(maxMemory) || maxMemory <= 0) throw new OptionError('maxMemory', maxMemory, 'a positive number of bytes');
  let engine: EngineName | undefined;
  if (compression) {
    const preference = options.engine ?? 'auto';
    if (!['auto', 'native', 'wasm'].includes(preference)) throw new OptionError('engine', preference, 'one of auto, native, wasm');
    try {
      engine = resolveEngineName(preference);
    } catch (error) {
      throw new OptionError('engine', preference, `available (${(error as Error).message})`);
    }
  } else if (options.engine !== undefined && !['auto', 'native', 'wasm'].includes(options.engine)) {
    throw new OptionError('engine', options.engine, 'one of auto, native, wasm');
  }
  const attributes = resolveAttributesOption(options.attributes, zarrVersion);
  const path = options.path;
  const pathProblem = path === undefined ? undefined : imagePathProblem(path);
  if (pathProblem) throw new OptionError('path', path, pathProblem);
  const name = options.name ?? 'image';
  if (typeof name !== 'string') throw new OptionError('name', name, 'a string');
  const { layouts, warnings, dimensions, pairing, downsampleTime } = resolveArrayLayouts(options, zarrVersion, multiscale);
  const layout = layouts[0]!;
  if (options.overwrite !== undefined && typeof options.overwrite !== 'boolean') throw new OptionError('overwrite', options.overwrite, 'true or false');
  if (options.durable !== undefined && typeof options.durable !== 'boolean') throw new OptionError('durable', options.durable, 'true or false');
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw new OptionError('onWarning', options.onWarning, 'a function');
  const blosc = compression && layouts.map(() => ({ ...compression, typesize: bytesPerPixel(options.dtype!) }));
  const streamBlocks = resolveStreamBlocks(options.compression);
  const workers = blosc ? (options.workers ?? cores) : 0;
  // The chain as zarrTransforms builds it: streamed levels where chunks cut into segments, else whole or raw parts.
  const plans = layouts.map((layout) => (blosc && streamBlocks ? streamPlanOf(blosc[layout.level]!, layout, engine === 'native')?.plan : undefined));
  const modes = layouts.map((layout): AccumulateMode => accumulateModeOf(layout, Boolean(blosc), Boolean(plans[layout.level])));
  const downsampleThread = layouts.length > 1 && frameBytesOf(layout) >= WORKER_MIN_FRAME_BYTES && !nativeReduction(options.dtype, downsampleMethod);
  const frameOwnership = options.frameOwnership ?? 'copy';
  if (!FRAME_OWNERSHIPS.includes(frameOwnership)) throw new OptionError('frameOwnership', frameOwnership, `one of ${FRAME_OWNERSHIPS.join(', ')}`);
  const frameCopies = frameOwnership === 'copy' ? frameCopiesBound(layout.tilesPerFrame, maxConcurrentWritesFor(modes[0] === 'whole')) : undefined;
  const s3Uploads = s3 && { partBytes: MIN_PART_BYTES, maxConcurrentUploads: s3.maxConcurrentUploads };
  const estimate = estimateResources({ layouts, modes, plans, workers, engine, downsampleThread, frameCopies, s3Uploads, pairing });
  return {
    store,
    dimensions,
    pairing,
    downsampleTime,
    s3,
    zarrVersion,
    dtype: options.dtype,
    layouts,
    multiscale,
    downsampleMethod,
    pixelScaleUm: { x: pixelScaleUm.x, y: pixelScaleUm.y },
    name,
    overwrite: options.overwrite ?? false,
    frameOwnership,
    durable: options.durable ?? true,
    warnings,
    blosc,
    engine,
    workers: options.workers,
    streamBlocks,
    maxMemory,
    estimate,
    attributes,
    path,
  };
}

/** The attributes option as resolveAttributes checks it, its AttributeError as an OptionError naming the path. */
function resolveAttributesOption(value: unknown, zarrVersion: ZarrVersion): JsonObject {
  try {
    return resolveAttributes(value, zarrVersion);
  } catch (error) {
    if (!(error instanceof AttributeError)) throw error;
    throw new OptionError(error.path, error.value, error.expectation);
  }
}

function resolveStreamBlocks(option: ZarrStreamOptions['compression']): boolean {
  const value = typeof option === 'object' && option !== null ? option.streamBlocks : undefined;
  if (value !== undefined && typeof value !== 'boolean') throw new OptionError('compression.streamBlocks', value, 'true or false');
  return value ?? true;
}

/** Blosc settings without typesize, from the compression option or the device's codec; undefined for none. */
function resolveCompression(option: ZarrStreamOptions['compression'], deviceCodec: BloscCname | undefined): Omit<BloscSettings, 'typesize'> | undefined {
  if (option === 'none') return undefined;
  if (option === undefined) return deviceCodec && { cname: deviceCodec, clevel: 1, shuffle: 'byte', blocksize: 0 };
  if (option === null || typeof option !== 'object') throw new OptionError('compression', option, "'none' or { codec, clevel?, shuffle?, blocksize? }");
  const codec = option.codec ?? deviceCodec;
  if (!(BLOSC_CNAMES as readonly unknown[]).includes(codec)) throw new OptionError('compression.codec', codec, `one of ${BLOSC_CNAMES.join(', ')}`);
  const clevel = option.clevel ?? 1;
  if (typeof clevel !== 'number' || !Number.isInteger(clevel) || clevel < 0 || clevel > 9) throw new OptionError('compression.clevel', clevel, 'an integer 0..9');
  const shuffle = option.shuffle ?? 'byte';
  if (!(BLOSC_SHUFFLES as readonly unknown[]).includes(shuffle)) throw new OptionError('compression.shuffle', shuffle, `one of ${BLOSC_SHUFFLES.join(', ')}`);
  const blocksize = option.blocksize ?? 0;
  if (typeof blocksize !== 'number' || !Number.isSafeInteger(blocksize) || blocksize < 0) throw new OptionError('compression.blocksize', blocksize, 'a non-negative integer (0: automatic)');
  const { typesize: _typesize, ...settings } = validateBloscOptions({ cname: codec, clevel, shuffle, blocksize, typesize: 1 });
  return settings;
}
