/**
 * `zarr-stream write` and `demo`: flags to options, the input's frames through zarrTransforms() into the store,
 * progress on stderr, a clean stop on Ctrl-C/SIGTERM/SIGHUP, and the summary (text or --json).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Argv } from 'yargs';
import { DTYPES, isDType } from '../dtype.js';
import type { DownsampleMethod } from '../downsample/reduce.js';
import { DEVICE_NAMES, type DeviceName } from '../devices.js';
import type { CompressionOptions } from '../options.js';
import type { BloscCname, BloscShuffle } from '../codecs/blosc-settings.js';
import type { EnginePreference } from '../codecs/engine.js';
import { OptionError } from '../options.js';
import { sinkOf, zarrTransforms } from '../zarr-transforms.js';
import { frameBytesOf } from '../resources/estimate.js';
import { parseSize } from './sizes.js';
import { dataBytesOf, summaryText, writeSummary } from './write-summary.js';
import { FlagError } from './flag-values.js';
import { progressReporter } from './progress.js';
import { openWriteInput, untilInputError } from './write-input.js';
import { InputError } from '../inputs/input-error.js';
import { isS3Url } from '../stores/s3-url.js';
import type { Dimension } from '../chunking/dimensions.js';
import { parseAcquisitionOrder, parseDimensionsFlag, SHORTHAND_FLAGS } from './dimension-flags.js';

/** Ctrl-C, SIGTERM or SIGHUP: what was stored stays readable; exit code 128 + the signal's number, as shells expect. */
export class InterruptedError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The signals that stop a write cleanly, with the exit code each gives. */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

/** Option fields as the library names them, to the flags that set them. */
const FLAG_OF_FIELD: Record<string, string> = {
  store: '<out>',
  zarrVersion: '--zarr-version',
  dtype: '--dtype',
  width: '--width',
  height: '--height',
  planes: '--planes',
  'chunking.tileWidth': '--tile-width',
  'chunking.tileHeight': '--tile-height',
  'chunking.tilePlanes': '--tile-planes',
  'chunking.maxBytesPerChunk': '--max-bytes-per-chunk',
  'chunking.framesPerChunk': '--frames-per-chunk',
  multiscale: '--multiscale',
  downsampleMethod: '--downsample-method',
  'pixelScaleUm.x': '--pixel-scale-x',
  'pixelScaleUm.y': '--pixel-scale-y',
  device: '--device',
  'compression.codec': '--compression',
  'compression.clevel': '--clevel',
  'compression.shuffle': '--shuffle',
  workers: '--workers',
  engine: '--engine',
  maxMemory: '--max-memory',
  chunking: '--tile-width/--tile-height',
  durable: '--durable',
  frames: '--frames',
  's3.endpoint': '--s3-endpoint',
  's3.region': '--s3-region',
  shardChunks: '--shard-chunks',
  dimensions: '--dimensions',
  acquisitionOrder: '--acquisition-order',
  path: '--path',
};

export interface WriteArgs {
  out: string;
  frames: string;
  width: string;
  height: string;
  planes: string;
  dtype: string;
  zarrVersion?: string;
  tileWidth: string;
  tileHeight: string;
  tilePlanes: string;
  maxBytesPerChunk: string;
  framesPerChunk?: string;
  shardChunks?: string;
  path?: string;
  overwrite: boolean;
  durable: boolean;
  json: boolean;
  multiscale: boolean;
  downsampleMethod: string;
  pixelScaleX: string;
  pixelScaleY: string;
  device?: string;
  compression?: string;
  clevel?: string;
  shuffle?: string;
  workers?: string;
  engine: string;
  maxMemory?: string;
  input: string;
  quiet: boolean;
  s3Endpoint?: string;
  s3Region?: string;
  dimensions?: string;
  acquisitionOrder?: string;
  pixelScaleZ: string;
}

function integerFlag(flag: string, text: string, min: number): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) throw new FlagError(`${flag} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

function numberFlag(flag: string, text: string): number {
  const value = /^\s*[0-9.eE+-]+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value <= 0) throw new FlagError(`${flag} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

/** --shard-chunks t,c,y,x: four integers >= 1 (chunks per shard along each dimension). */
function shardChunksFlag(text: string): [number, number, number, number] {
  const parts = text.split(',');
  if (parts.length !== 4) throw new FlagError(`--shard-chunks must be four integers t,c,y,x (chunks per shard along each dimension, e.g. 4,1,4,4), got ${JSON.stringify(text)}`);
  const [t, c, y, x] = parts.map((part) => integerFlag('--shard-chunks', part, 1));
  return [t!, c!, y!, x!];
}

/** --compression/--clevel/--shuffle as the library's compression option; undefined leaves it to --device. */
function compressionFlags(args: WriteArgs): CompressionOptions | 'none' | undefined {
  if (args.compression === 'none') {
    if (args.clevel !== undefined || args.shuffle !== undefined) throw new FlagError('--clevel and --shuffle need --compression (or a Blosc --device), got --compression none');
    return 'none';
  }
  if (args.compression === undefined && args.clevel === undefined && args.shuffle === undefined) return undefined;
  return {
    codec: args.compression as BloscCname | undefined,
    clevel: args.clevel === undefined ? undefined : integerFlag('--clevel', args.clevel, 0),
    shuffle: args.shuffle as BloscShuffle | undefined,
  };
}

export function writeFlags(y: Argv, defaults: { frames: number; width: number; height: number; tile: number; maxBytesPerChunk: string }): Argv<WriteArgs> {
  return y
    .option('input', { type: 'string', defaultDescription: 'synthetic', describe: 'frames from: synthetic, a raw file, - (raw frames on stdin), or a (OME-)TIFF [default: synthetic]' })
    .option('frames', { type: 'string', defaultDescription: String(defaults.frames), describe: `number of synthetic frames; at most this many from --input [integer, default: ${defaults.frames}]` })
    .option('width', { type: 'string', defaultDescription: String(defaults.width), describe: `frame width in pixels [integer, default: ${defaults.width}]` })
    .option('height', { type: 'string', defaultDescription: String(defaults.height), describe: `frame height in pixels [integer, default: ${defaults.height}]` })
    .option('planes', { type: 'string', defaultDescription: '1', describe: 'planes (channels) per frame [integer, default: 1]' })
    .option('dtype', { type: 'string', defaultDescription: 'uint16', describe: `pixel type: ${DTYPES.join(', ')} [default: uint16]` })
    .option('zarr-version', { type: 'string', describe: "Zarr format: 2 or 3 [integer, default: 3, or the device's]" })
    .option('tile-width', { type: 'string', defaultDescription: String(defaults.tile), describe: `chunk width (0: whole frame) [integer, default: ${defaults.tile}]` })
    .option('tile-height', { type: 'string', defaultDescription: String(defaults.tile), describe: `chunk height (0: whole frame) [integer, default: ${defaults.tile}]` })
    .option('tile-planes', { type: 'string', defaultDescription: '1', describe: 'planes per chunk (0: all) [integer, default: 1]' })
    .option('max-bytes-per-chunk', { type: 'string', defaultDescription: defaults.maxBytesPerChunk, describe: `raw bytes per chunk (bytes, KiB, MiB, GiB; at least 16MiB) [size, default: ${defaults.maxBytesPerChunk}]` })
    .option('frames-per-chunk', { type: 'string', describe: 'frames per chunk (overrides --max-bytes-per-chunk) [integer]' })
    .option('shard-chunks', { type: 'string', describe: 'Zarr v3 shards: chunks per shard along t,c,y,x, e.g. 4,1,4,4 [4 integers, default: no shards]' })
    .option('dimensions', { type: 'string', describe: 'an N-D array instead of --width/--height/--planes/--tile-*: name:size:chunk[:shard] outermost first, size 0 = unbounded append dimension, e.g. t:0:64,c:2:1,z:40:8,y:2048:512,x:2048:512; frames are 2-D' })
    .option('acquisition-order', { type: 'string', describe: 'with --dimensions: the order frames arrive in, outermost first, e.g. t,z,c [default: the storage order]' })
    .option('multiscale', { type: 'boolean', default: false, describe: 'also write downsampled levels 1, 2, ... (OME-NGFF pyramid) [boolean]' })
    .option('downsample-method', { type: 'string', defaultDescription: 'mean', describe: 'how a level is made from the one below: mean, min, max, decimate [default: mean]' })
    .option('pixel-scale-x', { type: 'string', defaultDescription: '1', describe: 'level-0 pixel width in micrometers [number, default: 1]' })
    .option('pixel-scale-y', { type: 'string', defaultDescription: '1', describe: 'level-0 pixel height in micrometers [number, default: 1]' })
    .option('pixel-scale-z', { type: 'string', defaultDescription: '1', describe: 'with --dimensions: level-0 z step in micrometers [number, default: 1]' })
    .option('device', { type: 'string', describe: `an acquire-driver-zarr device name (sets the Zarr version and codec): ${DEVICE_NAMES.join(', ')}` })
    .option('compression', { type: 'string', describe: "Blosc codec: none, lz4, zstd, blosclz, zlib [default: none, or the device's]" })
    .option('clevel', { type: 'string', describe: 'Blosc level 0..9 [integer, default: 1]' })
    .option('shuffle', { type: 'string', describe: 'Blosc shuffle: none, byte, bit [default: byte]' })
    .option('workers', { type: 'string', describe: "compression threads [integer, default: the machine's cores]" })
    .option('engine', { type: 'string', defaultDescription: 'auto', describe: 'Blosc engine: auto, native, wasm [default: auto]' })
    .option('max-memory', { type: 'string', defaultDescription: 'half the machine\'s memory', describe: "refuse options estimated to need more memory (8GiB, 1TiB) [size, default: half the machine's memory]" })
    .option('path', { type: 'string', describe: 'write the image as a group at this path below <out> (e.g. pos0, A/1/0), beside other images there (write only) [default: the root]' })
    .option('overwrite', { type: 'boolean', default: false, describe: 'replace the Zarr store at <out> (only a Zarr store, and only its Zarr keys; with --path, only that image) [boolean]' })
    .option('durable', { type: 'boolean', default: true, describe: 'fsync chunks and metadata before counting them (--no-durable: faster, for scratch data) [boolean, default: true]' })
    .option('s3-endpoint', { type: 'string', describe: 'for an s3://bucket/prefix <out>: an S3-compatible endpoint (MinIO, Ceph RGW), path-style [URL, default: AWS S3]' })
    .option('s3-region', { type: 'string', describe: "for an s3://bucket/prefix <out>: the region [default: the AWS SDK's (AWS_REGION, profile), us-east-1 with --s3-endpoint]" })
    .option('quiet', { type: 'boolean', default: false, describe: 'no progress bar or progress lines [boolean]' })
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary instead of text [boolean]' }) as unknown as Argv<WriteArgs>;
}

/** Runs write (or demo): `given` names the flags the user gave (a TIFF's shape may not be contradicted by them). */
export async function runWrite(args: WriteArgs, demo: boolean, given: ReadonlySet<string>): Promise<void> {
  if (demo && !args.overwrite && writtenByDemo(args.out)) {
    // Rerunning the demo replaces its own earlier output, never someone else's dataset (docs/cli.md).
    process.stderr.write(`zarr-stream: replacing the earlier dataset at ${args.out}\n`);
    args.overwrite = true;
  }
  // The demo's dataset is the root image it replaces on a rerun (writtenByDemo): it has no other place.
  if (demo && args.path !== undefined) throw new FlagError(`--path is for write; demo writes its image at the root of <out>, got --path ${JSON.stringify(args.path)}`);
  if (!isDType(args.dtype)) throw new FlagError(`--dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(args.dtype)}`);
  const dimensions = dimensionsOf(args, given);
  const input = await openWriteInput(args.input, {
    width: dimensions ? dimensions.at(-1)!.size : integerFlag('--width', args.width, 1),
    height: dimensions ? dimensions.at(-2)!.size : integerFlag('--height', args.height, 1),
    planes: dimensions ? 1 : integerFlag('--planes', args.planes, 1),
    dtype: args.dtype,
    // With --dimensions, --frames counts 2-D frames; by default one step of the append dimension (or all it holds).
    frames: dimensions && !given.has('frames') ? Math.max(1, dimensions[0]!.size) * dimensions.slice(1, -2).reduce((n, d) => n * d.size, 1) : integerFlag('--frames', args.frames, 0),
    // A TIFF's frame shape must match --dimensions' y and x as it must match --width and --height.
    given: dimensions ? new Set([...given, 'width', 'height', 'planes']) : given,
  });
  // An OME-TIFF's pixel size counts unless the flags say otherwise.
  const flagScale = { x: numberFlag('--pixel-scale-x', args.pixelScaleX), y: numberFlag('--pixel-scale-y', args.pixelScaleY) };
  const pixelScaleUm = input.pixelScaleUm && !given.has('pixel-scale-x') && !given.has('pixel-scale-y') ? input.pixelScaleUm : flagScale;
  const maxMemory = args.maxMemory === undefined ? undefined : parseSize(args.maxMemory);
  if (maxMemory === 0 || (args.maxMemory !== undefined && maxMemory === undefined)) throw new FlagError(`--max-memory must be a size such as 8GiB, got ${JSON.stringify(args.maxMemory)}`);
  const maxBytes = parseSize(args.maxBytesPerChunk);
  if (maxBytes === undefined || maxBytes < 1) throw new FlagError(`--max-bytes-per-chunk must be a size such as 67108864 or 64MiB, got ${JSON.stringify(args.maxBytesPerChunk)}`);
  const zarrVersion: 2 | 3 | undefined = args.zarrVersion === '2' ? 2 : args.zarrVersion === '3' ? 3 : undefined;
  if (args.zarrVersion !== undefined && !zarrVersion) throw new FlagError(`--zarr-version must be 2 or 3, got ${JSON.stringify(args.zarrVersion)}`);
  const s3 = isS3Url(args.out);
  if (!s3 && (args.s3Endpoint !== undefined || args.s3Region !== undefined)) throw new FlagError(`--s3-endpoint and --s3-region need an s3://bucket/prefix <out>, got ${JSON.stringify(args.out)}`);
  // The AWS SDK warns on Node 20 about its releases from 2027, which the pinned version is not (docs/dependencies.md).
  if (s3) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const where = s3 ? args.out : path.resolve(args.out);
  const { width, height, planes, dtype } = input.shape;
  const options = {
    store: args.out,
    s3: s3 ? { endpoint: args.s3Endpoint, region: args.s3Region } : undefined,
    zarrVersion,
    dtype,
    ...(dimensions ? { dimensions, acquisitionOrder: args.acquisitionOrder === undefined ? undefined : parseAcquisitionOrder(args.acquisitionOrder) } : { width, height, planes }),
    frames: input.frames,
    overwrite: args.overwrite,
    path: args.path,
    durable: args.durable,
    name: demo ? DEMO_NAME : undefined,
    multiscale: args.multiscale,
    downsampleMethod: args.downsampleMethod as DownsampleMethod,
    pixelScaleUm: dimensions ? undefined : pixelScaleUm,
    device: args.device as DeviceName | undefined,
    compression: compressionFlags(args),
    workers: args.workers === undefined ? undefined : integerFlag('--workers', args.workers, 1),
    engine: args.engine as EnginePreference,
    maxMemory,
    chunking: dimensions ? undefined : {
      tileWidth: integerFlag('--tile-width', args.tileWidth, 0),
      tileHeight: integerFlag('--tile-height', args.tileHeight, 0),
      tilePlanes: integerFlag('--tile-planes', args.tilePlanes, 0),
      maxBytesPerChunk: maxBytes,
      framesPerChunk: args.framesPerChunk === undefined ? undefined : integerFlag('--frames-per-chunk', args.framesPerChunk, 1),
    },
    shardChunks: args.shardChunks === undefined || dimensions ? undefined : shardChunksFlag(args.shardChunks),
    onWarning: (message: string) => process.stderr.write(`zarr-stream: warning: ${message}\n`),
    // Every input makes a fresh buffer for each frame and never touches it again: no copy is needed.
    frameOwnership: 'transfer' as const,
  };
  let chain;
  try {
    chain = zarrTransforms(options);
  } catch (error) {
    if (error instanceof OptionError) {
      const flag = FLAG_OF_FIELD[error.field] ?? error.field;
      // The field as a whole word (not a prefix of a dotted option such as chunking.tileWidth).
      const field = new RegExp(`(?<![\\w.])${error.field.replace(/\./g, '\\.')}(?![\\w.])`, 'g');
      const message = error.message.replace(field, flag).replace('overwrite: true', '--overwrite');
      // dimensions[1].size names a --dimensions entry by its position (from 1) and field.
      throw new FlagError(message.replace(/\bdimensions\[(\d+)\]\.(\w+)/g, (_, i: string, key: string) => `--dimensions entry ${Number(i) + 1} ${key}`));
    }
    throw error;
  }
  const sink = sinkOf(chain);
  const layout = sink.layouts[0]!;
  const started = performance.now();
  const frameBytes = frameBytesOf(layout);
  const progress = progressReporter({ mode: args.quiet || args.json ? 'none' : process.stderr.isTTY ? 'bar' : 'lines', total: input.frames, frameBytes });
  // The sink counts steps of the append dimension; the user counts the 2-D frames they make up.
  const framesStored = (steps: number): number => Math.min(steps * layout.framesPerStep, input.frames ?? Infinity);
  sink.on('progress', (figures) => progress.update({ frames: framesStored(figures.frames[0]!), bytes: figures.bytes, dataBytes: dataBytesOf(sink.layouts, figures.frames) }));
  // Ctrl-C (or SIGTERM, SIGHUP) stops the stream the Node way (an AbortSignal): completed chunk rows stay readable,
  // nothing half written. pipeline() rejects once the store is final, so the count below is what its metadata holds.
  const interrupt = new AbortController();
  let inputError: InputError | undefined;
  let stoppedBy: StopSignal | undefined;
  const onSignal = (signal: StopSignal): void => {
    stoppedBy ??= signal;
    interrupt.abort(new Error(`interrupted (${signal})`));
  };
  const signals = Object.keys(STOP_SIGNALS) as StopSignal[];
  for (const signal of signals) process.once(signal, onSignal);
  try {
    await pipeline(untilInputError(input.source(), (error) => (inputError = error)), ...chain, { signal: interrupt.signal });
  } catch (error) {
    progress.stop();
    if (!stoppedBy) throw error;
    throw new InterruptedError(`interrupted: ${framesStored(sink.progress.frames[0]!)} of ${input.frames ?? 'the'} frames are stored and readable in ${where} (${stoppedBy})`, STOP_SIGNALS[stoppedBy]);
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
  progress.stop();
  // Every whole frame before the input's failure is stored, with final metadata: now the failure is reported.
  if (inputError) throw new InputError(inputError.input, inputError.frameIndex, `${inputError.message.replace(/^input [^:]*: /, '').replace(/^frame \d+: /, '')}; the ${framesStored(sink.progress.frames[0]!)} frames before it are stored in ${where}`);
  const seconds = (performance.now() - started) / 1000;
  const frames = sink.progress.frames[0]!;
  const rawBytes = framesStored(frames) * frameBytes;
  const summary = writeSummary({ where, path: args.path, sink, compressor: chain[3], rawBytes, seconds });
  process.stdout.write(args.json ? JSON.stringify(summary) + '\n' : summaryText(summary, sink, demo ? args.out : undefined));
}

/** --dimensions as the library's dimensions (the shorthand's flags may not be given with it), or undefined. */
function dimensionsOf(args: WriteArgs, given: ReadonlySet<string>): Dimension[] | undefined {
  if (args.dimensions === undefined) {
    if (args.acquisitionOrder !== undefined) throw new FlagError('--acquisition-order needs --dimensions');
    if (given.has('pixel-scale-z')) throw new FlagError('--pixel-scale-z needs --dimensions (with a z dimension)');
    return undefined;
  }
  const conflicting = SHORTHAND_FLAGS.find((flag) => given.has(flag));
  if (conflicting) throw new FlagError(`--${conflicting} cannot be given with --dimensions: sizes, chunks and shards are given per dimension there`);
  return parseDimensionsFlag(args.dimensions, { x: numberFlag('--pixel-scale-x', args.pixelScaleX), y: numberFlag('--pixel-scale-y', args.pixelScaleY), z: numberFlag('--pixel-scale-z', args.pixelScaleZ) });
}




/** The OME-NGFF image name the demo gives its datasets: how a rerun knows a store is its own to replace. */
const DEMO_NAME = 'zarr-stream demo';

/** Whether the Zarr store at `dir` was written by the demo: its root OME metadata names the image DEMO_NAME. */
function writtenByDemo(dir: string): boolean {
  const read = (file: string): Record<string, any> | undefined => {
    try {
      return JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    } catch {
      return undefined;
    }
  };
  const multiscales = read('.zattrs')?.multiscales ?? read('zarr.json')?.attributes?.ome?.multiscales;
  return Array.isArray(multiscales) && multiscales[0]?.name === DEMO_NAME;
}


export const WRITE_DEFAULTS = { frames: 128, width: 2048, height: 2048, tile: 512, maxBytesPerChunk: '64MiB' };
export const DEMO_DEFAULTS = { frames: 64, width: 1024, height: 1024, tile: 512, maxBytesPerChunk: '16MiB' };

