#!/usr/bin/env node
/** The zarr-stream command line: `write` streams synthetic frames into a store; `demo` does so on a built-in default. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DTYPES } from '../dtype.js';
import type { DownsampleMethod } from '../downsample/reduce.js';
import { DEVICE_NAMES, type DeviceName } from '../devices.js';
import type { CompressionOptions } from '../options.js';
import type { BloscCname, BloscShuffle } from '../codecs/blosc-settings.js';
import type { EnginePreference } from '../codecs/engine.js';
import { OptionError } from '../options.js';
import { syntheticFrames } from '../frames/synthetic.js';
import { sinkOf, zarrTransforms } from '../zarr-transforms.js';
import { chunkShape, arrayShape } from '../metadata/zarr.js';
import { formatBytes, parseSize } from './sizes.js';
import { formatNativeStatus, nativeStatus } from '../native-status.js';
import { formatStoreSummary, summarizeStore } from './info.js';
import { PreviewError, writePreview } from './preview.js';
import { checkFlagValues, FlagError, outputOf, valueDefaults } from './flag-values.js';


/** Ctrl-C, SIGTERM or SIGHUP: what was stored stays readable; exit code 128 + the signal's number, as shells expect. */
class InterruptedError extends Error {
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
};

interface WriteArgs {
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

function writeFlags(y: Argv, defaults: { frames: number; width: number; height: number; tile: number; maxBytesPerChunk: string }): Argv<WriteArgs> {
  return y
    .option('frames', { type: 'string', defaultDescription: String(defaults.frames), describe: 'number of synthetic frames' })
    .option('width', { type: 'string', defaultDescription: String(defaults.width), describe: 'frame width in pixels' })
    .option('height', { type: 'string', defaultDescription: String(defaults.height), describe: 'frame height in pixels' })
    .option('planes', { type: 'string', defaultDescription: '1', describe: 'planes (channels) per frame' })
    .option('dtype', { type: 'string', defaultDescription: 'uint16', describe: `pixel type: ${DTYPES.join(', ')}` })
    .option('zarr-version', { type: 'string', describe: 'Zarr format: 2 or 3 (default 3, or the device\'s)' })
    .option('tile-width', { type: 'string', defaultDescription: String(defaults.tile), describe: 'chunk width (0: whole frame)' })
    .option('tile-height', { type: 'string', defaultDescription: String(defaults.tile), describe: 'chunk height (0: whole frame)' })
    .option('tile-planes', { type: 'string', defaultDescription: '1', describe: 'planes per chunk (0: all)' })
    .option('max-bytes-per-chunk', { type: 'string', defaultDescription: defaults.maxBytesPerChunk, describe: 'raw bytes per chunk (bytes, KiB, MiB, GiB; at least 16MiB)' })
    .option('frames-per-chunk', { type: 'string', describe: 'frames per chunk (overrides --max-bytes-per-chunk)' })
    .option('multiscale', { type: 'boolean', default: false, describe: 'also write downsampled levels 1, 2, ... (OME-NGFF pyramid)' })
    .option('downsample-method', { type: 'string', defaultDescription: 'mean', describe: 'how a level is made from the one below: mean, min, max, decimate' })
    .option('pixel-scale-x', { type: 'string', defaultDescription: '1', describe: 'level-0 pixel width in micrometers' })
    .option('pixel-scale-y', { type: 'string', defaultDescription: '1', describe: 'level-0 pixel height in micrometers' })
    .option('device', { type: 'string', describe: `a seed device preset: ${DEVICE_NAMES.join(', ')}` })
    .option('compression', { type: 'string', describe: 'Blosc codec: none, lz4, zstd, blosclz, zlib (default none, or the device\'s)' })
    .option('clevel', { type: 'string', describe: 'Blosc level 0..9 (default 1)' })
    .option('shuffle', { type: 'string', describe: 'Blosc shuffle: none, byte, bit (default byte)' })
    .option('workers', { type: 'string', describe: 'compression threads (default: the machine\'s cores)' })
    .option('engine', { type: 'string', defaultDescription: 'auto', describe: 'Blosc engine: auto, native, wasm' })
    .option('max-memory', { type: 'string', defaultDescription: 'half the machine\'s memory', describe: 'refuse options estimated to need more memory (a size: 8GiB, 1TiB)' })
    .option('overwrite', { type: 'boolean', default: false, describe: 'replace the Zarr store at <out> (only a Zarr store, and only its Zarr keys)' })
    .option('durable', { type: 'boolean', default: true, describe: 'fsync chunks and metadata before counting them (--no-durable: faster, for scratch data)' })
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary instead of text' }) as unknown as Argv<WriteArgs>;
}

async function runWrite(args: WriteArgs, demo: boolean): Promise<void> {
  if (demo && !args.overwrite && writtenByDemo(args.out)) {
    // Rerunning the demo replaces its own earlier output, never someone else's dataset (docs/cli.md).
    process.stderr.write(`zarr-stream: replacing the earlier dataset at ${args.out}\n`);
    args.overwrite = true;
  }
  const frames = integerFlag('--frames', args.frames, 0);
  const maxMemory = args.maxMemory === undefined ? undefined : parseSize(args.maxMemory);
  if (maxMemory === 0 || (args.maxMemory !== undefined && maxMemory === undefined)) throw new FlagError(`--max-memory must be a size such as 8GiB, got ${JSON.stringify(args.maxMemory)}`);
  const maxBytes = parseSize(args.maxBytesPerChunk);
  if (maxBytes === undefined || maxBytes < 1) throw new FlagError(`--max-bytes-per-chunk must be a size such as 67108864 or 64MiB, got ${JSON.stringify(args.maxBytesPerChunk)}`);
  const zarrVersion: 2 | 3 | undefined = args.zarrVersion === '2' ? 2 : args.zarrVersion === '3' ? 3 : undefined;
  if (args.zarrVersion !== undefined && !zarrVersion) throw new FlagError(`--zarr-version must be 2 or 3, got ${JSON.stringify(args.zarrVersion)}`);
  const options = {
    store: args.out,
    zarrVersion,
    dtype: args.dtype as (typeof DTYPES)[number],
    width: integerFlag('--width', args.width, 1),
    height: integerFlag('--height', args.height, 1),
    planes: integerFlag('--planes', args.planes, 1),
    overwrite: args.overwrite,
    durable: args.durable,
    name: demo ? DEMO_NAME : undefined,
    multiscale: args.multiscale,
    downsampleMethod: args.downsampleMethod as DownsampleMethod,
    pixelScaleUm: { x: numberFlag('--pixel-scale-x', args.pixelScaleX), y: numberFlag('--pixel-scale-y', args.pixelScaleY) },
    device: args.device as DeviceName | undefined,
    compression: compressionFlags(args),
    workers: args.workers === undefined ? undefined : integerFlag('--workers', args.workers, 1),
    engine: args.engine as EnginePreference,
    maxMemory,
    chunking: {
      tileWidth: integerFlag('--tile-width', args.tileWidth, 0),
      tileHeight: integerFlag('--tile-height', args.tileHeight, 0),
      tilePlanes: integerFlag('--tile-planes', args.tilePlanes, 0),
      maxBytesPerChunk: maxBytes,
      framesPerChunk: args.framesPerChunk === undefined ? undefined : integerFlag('--frames-per-chunk', args.framesPerChunk, 1),
    },
    onWarning: (message: string) => process.stderr.write(`zarr-stream: warning: ${message}\n`),
    // syntheticFrames makes a fresh buffer for every frame and never touches it again: no copy is needed.
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
      throw new FlagError(error.message.replace(field, flag).replace('overwrite: true', '--overwrite'));
    }
    throw error;
  }
  const sink = sinkOf(chain);
  const layout = sink.layouts[0]!;
  const started = performance.now();
  const showProgress = process.stderr.isTTY && !args.json;
  sink.on('progress', (progress: { frames: number[] }) => {
    if (showProgress) process.stderr.write(`\r${progress.frames[0]}/${frames} frames stored`);
  });
  // Ctrl-C (or SIGTERM, SIGHUP) stops the stream the Node way (an AbortSignal): completed chunk rows stay readable,
  // nothing half written. pipeline() rejects once the store is final, so the count below is what its metadata holds.
  const interrupt = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const onSignal = (signal: StopSignal): void => {
    stoppedBy ??= signal;
    interrupt.abort(new Error(`interrupted (${signal})`));
  };
  const signals = Object.keys(STOP_SIGNALS) as StopSignal[];
  for (const signal of signals) process.once(signal, onSignal);
  try {
    await pipeline(syntheticFrames({ frames, width: options.width, height: options.height, planes: options.planes, dtype: options.dtype }), ...chain, {
      signal: interrupt.signal,
    });
  } catch (error) {
    if (!stoppedBy) throw error;
    if (showProgress) process.stderr.write('\n');
    throw new InterruptedError(`interrupted: ${sink.progress.frames[0]} of ${frames} frames are stored and readable in ${path.resolve(args.out)} (${stoppedBy})`, STOP_SIGNALS[stoppedBy]);
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
  if (showProgress) process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  const rawBytes = frames * layout.frame.width * layout.frame.height * layout.frame.planes * layout.bytesPerPixel;
  const summary = {
    store: path.resolve(args.out),
    zarrVersion: sink.zarrVersion,
    array: '0',
    shape: arrayShape(layout, frames),
    chunks: chunkShape(layout),
    dtype: layout.dtype,
    compression: chain[3].engineName
      ? { ...sink.codecs.v2Compressor, engine: chain[3].engineName, workers: chain[3].workers, streamedLevels: streamedLevels(chain[3].blockPlans, sink.layouts.length) }
      : 'none',
    levels: sink.layouts.map((level, index) => ({ path: level.path, shape: arrayShape(level, sink.progress.frames[index]!), chunks: chunkShape(level) })),
    chunkFiles: sink.progress.chunks,
    rawBytes,
    storedBytes: sink.progress.bytes,
    seconds: Number(seconds.toFixed(3)),
    mbPerSecond: Number((rawBytes / 1e6 / seconds).toFixed(1)),
  };
  if (args.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const lines = [
    `wrote ${summary.store} (Zarr v${summary.zarrVersion}): array "0" of shape (t, c, y, x) = (${summary.shape.join(', ')}), ${layout.dtype}`,
    `  chunks (${summary.chunks.join(', ')}), ${summary.chunkFiles} chunk files, ${formatBytes(rawBytes)} in ${seconds.toFixed(2)} s (${summary.mbPerSecond} MB/s)`,
    `  compression: ${compressionText(summary.compression as 'none' | Record<string, unknown>, sink.progress.chunkBytes, summary.storedBytes)}`,
    ...summary.levels.slice(1).map((level) => `  level ${level.path}: shape (${level.shape.join(', ')}), chunks (${level.chunks.join(', ')})`),
  ];
  if (demo) lines.push('', ...openSnippets(args.out, summary.zarrVersion));
  process.stdout.write(lines.join('\n') + '\n');
}

/** The ratio compares each stored chunk with its raw size (padding included), across all levels. */
function compressionText(compression: 'none' | Record<string, unknown>, rawBytes: number, storedBytes: number): string {
  if (compression === 'none') return 'none';
  const { cname, clevel, shuffle, engine, workers, streamedLevels: streamed } = compression;
  const ratio = storedBytes > 0 ? (rawBytes / storedBytes).toFixed(2) : '-';
  const how = (streamed as number[]).length > 0 ? `, compressed as frames arrive (levels ${(streamed as number[]).join(', ')})` : ', whole chunks';
  return `blosc ${cname} clevel ${clevel} shuffle ${['none', 'byte', 'bit'][shuffle as number]}, ratio ${ratio}, ${engine} engine on ${workers} worker threads${how}`;
}

/** The levels whose chunks were compressed in segments as their frames arrived (docs/compression.md). */
function streamedLevels(plans: readonly unknown[], levels: number): number[] {
  return Array.from({ length: levels }, (_, level) => level).filter((level) => plans[level] !== undefined);
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

function openSnippets(out: string, zarrVersion: 2 | 3): string[] {
  const store = JSON.stringify(out);
  return [
    `open it in zarr-python${zarrVersion === 3 ? ' (3.x reads v3; use --zarr-version 2 for zarr-python 2.x)' : ''}:`,
    `  python3 -c 'import zarr; a = zarr.open_array(${store}, path="0", mode="r"); print(a.shape, a[0, 0, :2, :8])'`,
    'open it in zarrita.js (node, ESM):',
    `  import * as zarr from "zarrita"; import FileSystemStore from "@zarrita/storage/fs";`,
    `  const a = await zarr.open(zarr.root(new FileSystemStore(${store})).resolve("0"), { kind: "array" }); console.log(a.shape, await zarr.get(a, [0, 0, null, null]));`,
  ];
}

async function runInfo(args: { store: string; json: boolean }): Promise<void> {
  const summary = await summarizeStore(args.store);
  process.stdout.write(args.json ? JSON.stringify(summary) + '\n' : formatStoreSummary(summary).join('\n') + '\n');
}

interface PreviewArgs {
  store: string;
  level: number;
  frame: number;
  plane: number;
  mip: boolean;
  min?: number;
  max?: number;
  out: string;
  json: boolean;
}

async function runPreview(args: PreviewArgs): Promise<void> {
  for (const flag of ['level', 'frame', 'plane'] as const) {
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

const WRITE_DEFAULTS = { frames: 128, width: 2048, height: 2048, tile: 512, maxBytesPerChunk: '64MiB' };
const DEMO_DEFAULTS = { frames: 64, width: 1024, height: 1024, tile: 512, maxBytesPerChunk: '16MiB' };

export async function main(argv: string[]): Promise<number> {
  // `--version` alone (or with --json) says what this installation runs on: npm hides the install step's report.
  if (argv[0] === '--version' && argv.slice(1).every((arg) => arg === '--json')) {
    const status = nativeStatus();
    process.stdout.write(argv.includes('--json') ? JSON.stringify(status) + '\n' : formatNativeStatus(status).join('\n') + '\n');
    return 0;
  }
  let failure: Error | undefined;
  const parser = yargs(argv)
    .scriptName('zarr-stream')
    .usage('$0 <command> [options]')
    // <out> is checked here rather than by yargs, which never takes a positional from after `--` (write -- -x.zarr).
    .command('write [out]', 'stream synthetic frames into a Zarr store at <out> (after --, <out> may start with -)', (y) =>
      writeFlags(y.positional('out', { type: 'string', describe: 'output directory' }), WRITE_DEFAULTS),
    )
    .command('demo [out]', 'write a small dataset (demo.zarr) and show how to open it', (y) =>
      writeFlags(y.positional('out', { type: 'string', describe: 'output directory (default demo.zarr)' }), DEMO_DEFAULTS),
    )
    .command('info <store>', 'describe any Zarr v2/v3 store: groups, arrays, chunks, codecs, bytes, OME-NGFF axes and scales', (y) =>
      y.positional('store', { type: 'string', describe: 'a Zarr store directory', demandOption: true }).option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
    )
    .command('preview <store>', 'a PNG of one frame (or a maximum projection) of any Zarr array, contrast stretched', (y) =>
      y
        .positional('store', { type: 'string', describe: 'a Zarr store directory', demandOption: true })
        .option('level', { type: 'number', default: 0, describe: 'pyramid level' })
        .option('frame', { type: 'number', default: 0, describe: 'index along t' })
        .option('plane', { type: 'number', default: 0, describe: 'index along c' })
        .option('mip', { type: 'boolean', default: false, describe: 'maximum projection over t' })
        .option('min', { type: 'number', describe: 'value shown black (default: the 0.5 percentile)' })
        .option('max', { type: 'number', describe: 'value shown white (default: the 99.5 percentile)' })
        .option('out', { type: 'string', default: 'preview.png', describe: 'the PNG to write' })
        .option('json', { type: 'boolean', default: false, describe: 'print what was written as JSON' }),
    )
    .parserConfiguration({ 'populate--': true })
    .demandCommand(1, 'name a command: write, demo, info or preview')
    .strict()
    .help()
    .version(false)
    .epilogue('zarr-stream --version [--json]: the version, and which Blosc engine and pyramid kernels this installation uses')
    .fail((message, error) => {
      failure = error ?? new FlagError(message);
    })
    .exitProcess(false);
  const args = await parser.parseAsync();
  if (failure) {
    process.stderr.write(`zarr-stream: error: ${failure.message.split('\n')[0]}\n`);
    return 2;
  }
  const command = String(args._[0]);
  // yargs has printed the help; nothing is to be written.
  if (args.help || argv.includes('--help') || argv.includes('-h')) return 0;
  try {
    if (command === 'info' || command === 'preview') checkFlagValues(args as Record<string, unknown>, {});
    if (command === 'info') await runInfo(args as unknown as { store: string; json: boolean });
    else if (command === 'preview') await runPreview(args as unknown as PreviewArgs);
    else if (command === 'write' || command === 'demo') {
      (args as Record<string, unknown>).out = outputOf(args as Record<string, unknown>, command);
      checkFlagValues(args as Record<string, unknown>, valueDefaults(command === 'write' ? WRITE_DEFAULTS : DEMO_DEFAULTS));
      await runWrite(args as unknown as WriteArgs, command === 'demo');
    }
    return 0;
  } catch (error) {
    process.stderr.write(`zarr-stream: error: ${(error as Error).message.split('\n')[0]}\n`);
    return error instanceof FlagError || error instanceof PreviewError ? 2 : error instanceof InterruptedError ? error.exitCode : 1;
  }
}

process.exitCode = await main(hideBin(process.argv));
