/**
 * Property-based tests (fast-check): random option objects and random frame streams. Every case either round-trips
 * exactly (every pixel read back by zarrita equals what went in; pyramid levels equal the reference pyramid) or fails
 * with an OptionError (nothing written) or a FrameMismatchError naming the first bad frame (the frames before it,
 * as far as the metadata claims them, exact) - within a time limit, never a hang or a crash.
 *
 * On failure fast-check prints the seed, the path and the shrunk counterexample; replay one with
 * FUZZ_SEED=<seed> FUZZ_PATH=<path> npx ava dist/test/property.test.js. FUZZ_RUNS scales the case counts.
 */
import test from 'ava';
import fc from 'fast-check';
import { pipeline } from 'node:stream/promises';
import { Readable, type Writable } from 'node:stream';
import { sinkOf, zarrTransforms, type ZarrChain } from '../src/zarr-transforms.js';
import { OptionError, type ZarrStreamOptions } from '../src/options.js';
import { FrameMismatchError } from '../src/frames/normalize.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import { DTYPES, allocPixels, bytesPerPixel, type DType, type PixelArray } from '../src/dtype.js';
import { DOWNSAMPLE_METHODS } from '../src/downsample/reduce.js';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { firstDifference, randomBytes, tempDir } from './helpers/frames.js';
import { openWithZarrita, readWithZarrita, zarritaMemory } from './helpers/readers.js';
import { fromBytes, isFloat, refPyramid, type RefFrame } from './helpers/reference-pyramid.js';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** A case that takes longer is a hang (a case takes ~20-100 ms; the limit leaves room for a loaded CI machine). */
const CASE_LIMIT_MS = 30_000;

function runs<T>(count: number): fc.Parameters<T> {
  return { numRuns: Math.max(1, Math.round(count * SCALE)), seed: SEED, path: process.env.FUZZ_PATH, verbose: 0 };
}

/** fc.assert, with the shrunk counterexample's own error appended: ava shows an error's message, not its cause. */
async function assertProperty<T extends unknown[]>(property: fc.IAsyncPropertyWithHooks<T>, params: fc.Parameters<T>): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (error) {
    const cause = (error as Error).cause;
    if (cause !== undefined) (error as Error).message += `\nThe counterexample failed with: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`;
    throw error;
  }
}

/** Rejects with a message naming `what` when `promise` has not settled within the case limit. */
async function withinLimit<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${CASE_LIMIT_MS} ms: a hang`)), CASE_LIMIT_MS);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------------------------------ options

/**
 * Valid options, kept tiny: frames of at most 12 x 10 x 3 pixels, chunks of at most 4 frames. Tile extents run from
 * 0 (whole extent) to absurd (1e9: more than the frame, also the whole extent). framesPerChunk is always given: the
 * default rule makes 16-64 MiB chunks, which would only measure memory bandwidth here.
 */
const validOptions = fc.record(
  {
    zarrVersion: fc.constantFrom(2, 3),
    dtype: fc.constantFrom(...DTYPES),
    width: fc.integer({ min: 1, max: 12 }),
    height: fc.integer({ min: 1, max: 10 }),
    planes: fc.integer({ min: 1, max: 3 }),
    chunking: fc.record(
      {
        tileWidth: fc.oneof(fc.integer({ min: 0, max: 14 }), fc.constant(1e9)),
        tileHeight: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(1e9)),
        tilePlanes: fc.integer({ min: 0, max: 4 }),
        framesPerChunk: fc.integer({ min: 1, max: 4 }),
      },
      { requiredKeys: ['framesPerChunk'] },
    ),
    compression: fc.oneof(
      { weight: 3, arbitrary: fc.constant('none' as const) },
      {
        weight: 1,
        arbitrary: fc.record(
          {
            codec: fc.constantFrom('lz4', 'zstd', 'blosclz', 'zlib' as const),
            clevel: fc.integer({ min: 0, max: 9 }),
            shuffle: fc.constantFrom('none', 'byte', 'bit' as const),
            streamBlocks: fc.boolean(),
          },
          { requiredKeys: ['codec'] },
        ),
      },
    ),
    engine: fc.constantFrom('native', 'wasm' as const),
    multiscale: fc.boolean(),
    downsampleMethod: fc.constantFrom(...DOWNSAMPLE_METHODS),
    frameOwnership: fc.constantFrom('copy', 'transfer' as const),
  },
  { requiredKeys: ['dtype', 'width', 'height'] },
);

/** Values no option accepts, and the absurd sizes this branch refuses before allocating (a chunk of 2 GiB or more). */
const BAD = [0, -1, 1.5, NaN, Infinity, -Infinity, '8', '', null, true, {}, [], 2 ** 53, 10n, Symbol('x')] as const;
const badValue = fc.constantFrom(...BAD);

/** One bad field set into valid options: [path, value]. */
const mutation = fc.oneof(
  fc.tuple(fc.constantFrom('width', 'height', 'planes', 'dtype', 'zarrVersion', 'multiscale', 'downsampleMethod', 'name', 'overwrite', 'workers', 'engine', 'frameOwnership', 'device', 'compression', 'chunking', 'pixelScaleUm', 'onWarning'), badValue),
  fc.tuple(fc.constantFrom('chunking.tileWidth', 'chunking.tileHeight', 'chunking.tilePlanes', 'chunking.framesPerChunk', 'chunking.maxBytesPerChunk', 'pixelScaleUm.x', 'compression.codec', 'compression.clevel', 'compression.shuffle', 'compression.blocksize', 'compression.streamBlocks'), badValue),
  fc.tuple(fc.constantFrom('dtype'), fc.constantFrom('uint17', 'Uint16', 'float16', 'bool')),
  // Never a non-empty string: that would be a directory in the working directory.
  fc.tuple(fc.constantFrom('store'), fc.constantFrom('', 5, null, {}, { set: 1 }, true)),
  fc.tuple(fc.constantFrom('compression.codec'), fc.constantFrom('lz5', 'LZ4', 'snappy')),
  fc.tuple(fc.constantFrom('compression.clevel'), fc.constantFrom(10, -1, 99)),
  // Absurd sizes: refused before anything is allocated, by the 2 GiB chunk check, the frame-size limit, the memory
  // estimate (maxMemory), the chunks-per-frame limit or the workers cap.
  fc.tuple(fc.constantFrom('absurd.frame', 'absurd.framesPerChunk'), fc.constantFrom(1e5, 1e6, 1e9)),
  fc.tuple(fc.constantFrom('absurd.planes'), fc.constantFrom(1e10, 1e12)),
  // A memory limit below any write's estimate: refused whatever the rest of the options.
  fc.tuple(fc.constantFrom('maxMemory'), fc.constantFrom(1, 1024, 2 ** 20)),
  fc.tuple(fc.constantFrom('absurd.tiles'), fc.constantFrom(4096, 65536, 1e9)),
  fc.tuple(fc.constantFrom('workers'), fc.constantFrom(1000, 1e6)),
  // Misspelt keys (strict options): an OptionError naming the key, never silently ignored.
  fc.tuple(fc.constantFrom('multiScale', 'chunking.tilewidth', 'compression.clevle', 'pixelScaleUm.z', 'frameownership'), fc.constantFrom(1, true)),
);

function mutate(options: Record<string, unknown>, [field, value]: readonly [string, unknown]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...options, chunking: { ...(options.chunking as object) } };
  if (field === 'absurd.frame') return { ...out, width: value, height: value, chunking: { framesPerChunk: 1 } };
  if (field === 'absurd.planes') return { ...out, planes: value, chunking: { framesPerChunk: 1 } };
  if (field === 'absurd.framesPerChunk') return { ...out, width: 4096, height: 4096, chunking: { framesPerChunk: value } };
  if (field === 'absurd.tiles') return { ...out, width: value, height: value, multiscale: true, chunking: { tileWidth: 1, tileHeight: 1, framesPerChunk: 1 } };
  const [head, leaf] = field.split('.');
  if (leaf === undefined) out[head!] = value;
  else {
    const parent = out[head!];
    out[head!] = { ...(typeof parent === 'object' && parent !== null ? parent : head === 'compression' ? { codec: 'lz4' } : {}), [leaf]: value };
  }
  return out;
}

// ------------------------------------------------------------------------------------------ frames

/** How a frame reaches the chain, or what is wrong with it. */
type FrameKind =
  | 'frame'
  | 'typed'
  | 'bytes'
  | 'misaligned-bytes'
  | 'short'
  | 'long'
  | 'wrong-dtype'
  | 'wrong-shape'
  | 'wrong-frame-dtype'
  | 'look-alike'
  | 'junk';
const GOOD: readonly FrameKind[] = ['frame', 'typed', 'bytes', 'misaligned-bytes'];

interface FramePlan {
  kind: FrameKind;
  seed: number;
  /** Bytes missing or extra ('short', 'long'). */
  delta: number;
}

const framePlan = fc.record({
  kind: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...GOOD) },
    { weight: 1, arbitrary: fc.constantFrom<FrameKind>('short', 'long', 'wrong-dtype', 'wrong-shape', 'wrong-frame-dtype', 'look-alike', 'junk') },
  ),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  delta: fc.integer({ min: 1, max: 9 }),
});

interface StreamPlan {
  frames: FramePlan[];
  source: 'fresh' | 'ring';
  ring: number;
  /** 'fs': a FileSystemStore in a temporary directory (the real write path); else a MemoryStore (fast). */
  store: 'memory' | 'fs';
}

const streamPlan: fc.Arbitrary<StreamPlan> = fc.record({
  frames: fc.array(framePlan, { maxLength: 6 }),
  /** 'ring': the source reuses a ring of 1-3 buffers, refilled after each write callback (only with 'copy'). */
  source: fc.constantFrom('fresh', 'ring' as const),
  ring: fc.integer({ min: 1, max: 3 }),
  store: fc.oneof({ weight: 4, arbitrary: fc.constant('memory' as const) }, { weight: 1, arbitrary: fc.constant('fs' as const) }),
});

/** Source values that are no frame at all (null cannot be written into an object stream: it ends it). */
const JUNK: readonly unknown[] = [undefined, 7, 'frame', {}, [], true, { data: 'pixels' }, 10n, Symbol('frame'), () => 0, Object.create(null), new Map()];

const FLOAT_VALUES = [0, -0, 1, -1, 0.5, -2.5, 3, 7, -8, NaN, Infinity, -Infinity, 2 ** -149, 1.5e-320];

/** Pixel bytes of one frame: random bytes, or (floats in a pyramid) values whose means are exact, with NaN and Infinity. */
function pixels(dtype: DType, count: number, seed: number, tame: boolean): PixelArray {
  const out = allocPixels(dtype, count);
  if (tame && isFloat(dtype)) {
    const pick = randomBytes(count, seed);
    for (let i = 0; i < count; i++) (out as Float32Array | Float64Array)[i] = FLOAT_VALUES[pick[i]! % (FLOAT_VALUES.length - (dtype === 'float32' ? 1 : 0))]!;
    return out;
  }
  new Uint8Array(out.buffer).set(randomBytes(out.byteLength, seed));
  return out;
}

const OTHER_ARRAY: Record<number, Array<new (n: number) => ArrayBufferView>> = {
  1: [Int16Array, Float32Array],
  2: [Uint32Array, Int8Array, Float32Array],
  4: [Uint16Array, Float64Array, BigInt64Array],
  8: [Uint32Array, Int16Array],
};

/** The source value for one plan: a valid frame in one of the accepted forms, or a faulty value. */
function frameValue(plan: FramePlan, t: number, shape: { width: number; height: number; planes: number; dtype: DType }, tame: boolean): { value: unknown; bytes?: Uint8Array; pixels?: PixelArray } {
  const count = shape.width * shape.height * shape.planes;
  const data = pixels(shape.dtype, count, plan.seed, tame);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bpp = bytesPerPixel(shape.dtype);
  switch (plan.kind) {
    case 'frame':
      return { value: { data, width: shape.width, height: shape.height, planes: shape.planes, dtype: shape.dtype }, bytes, pixels: data };
    case 'typed':
      return { value: data, bytes, pixels: data };
    case 'bytes':
      return { value: Buffer.from(bytes), bytes, pixels: data };
    case 'misaligned-bytes': {
      const shifted = new Uint8Array(bytes.byteLength + 3).subarray(1 + (plan.seed % 2), 1 + (plan.seed % 2) + bytes.byteLength);
      shifted.set(bytes);
      return { value: shifted, bytes, pixels: data };
    }
    case 'short':
      return { value: bytes.subarray(0, Math.max(0, bytes.byteLength - plan.delta)) };
    case 'long':
      return { value: new Uint8Array(bytes.byteLength + plan.delta) };
    case 'wrong-dtype': {
      const types = OTHER_ARRAY[bpp]!;
      const Type = types[plan.seed % types.length]!;
      const element = (Type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      return { value: new Type(Math.ceil(bytes.byteLength / element)) };
    }
    case 'wrong-shape':
      return { value: { data, width: shape.width + (plan.seed % 2), height: shape.height + 1 - (plan.seed % 2), planes: shape.planes, dtype: shape.dtype } };
    case 'wrong-frame-dtype':
      return { value: { data, width: shape.width, height: shape.height, planes: shape.planes, dtype: DTYPES[(DTYPES.indexOf(shape.dtype) + 1 + (plan.seed % (DTYPES.length - 1))) % DTYPES.length] } };
    case 'look-alike':
      return { value: { kind: 'frame', level: 0, t: plan.seed % 2 ? 0 : t, width: shape.width, height: shape.height, planes: shape.planes, dtype: shape.dtype, bytes } };
    case 'junk':
      return { value: JUNK[plan.seed % JUNK.length] };
  }
}

/** Writes `values` into `head`, each after the last one's write callback; with a ring, into reused buffers. */
async function writeAll(head: Writable, values: readonly unknown[], ring: number | undefined): Promise<void> {
  const slots = ring === undefined ? [] : Array.from({ length: ring }, () => new ArrayBuffer(16 * 1024));
  for (let i = 0; i < values.length; i++) {
    let value = values[i];
    if (ring !== undefined) value = intoSlot(value, slots[i % ring]!);
    const written = new Promise<void>((resolve) => head.write(value, () => resolve()));
    await written;
    // The source refills its buffer as soon as the frame is taken: scribble on it, as the next frame would.
    if (ring !== undefined) new Uint8Array(slots[i % ring]!).fill(0xa5);
  }
  head.end();
}

/** `value` with its pixel array moved into a reused slot (same type, offset and length). */
function intoSlot(value: unknown, slot: ArrayBuffer): unknown {
  const move = (view: ArrayBufferView): ArrayBufferView => {
    const Type = view.constructor as new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView;
    const element = (view as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    const copy = new Type(slot, view.byteOffset % 8, view.byteLength / element);
    new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    return copy;
  };
  if (ArrayBuffer.isView(value)) return move(value);
  if (value !== null && typeof value === 'object' && ArrayBuffer.isView((value as { data?: unknown }).data)) return { ...value, data: move((value as { data: ArrayBufferView }).data) };
  return value;
}

// ------------------------------------------------------------------------------------------ the property

function describeCase(options: Record<string, unknown>): string {
  return JSON.stringify(options, (_, value: unknown) => (typeof value === 'bigint' ? `${value}n` : typeof value === 'symbol' ? String(value) : value));
}

interface Tally {
  roundTrips: number;
  optionErrors: number;
  frameErrors: number;
}

function sameValues(got: RefFrame, want: RefFrame): number {
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (g === w || (typeof g === 'number' && Number.isNaN(g) && Number.isNaN(w as number))) continue;
    return i;
  }
  return got.length === want.length ? -1 : want.length;
}

async function checkCase(options: Record<string, unknown>, plan: StreamPlan | undefined, tally: Tally): Promise<void> {
  if (process.env.FUZZ_TRACE) process.stderr.write(`case ${describeCase(options)} ${JSON.stringify(plan)}\n`);
  const dir = plan?.store === 'fs' ? await tempDir('zs-fuzz-') : undefined;
  try {
    await checkCaseIn(dir, options, plan, tally);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

async function checkCaseIn(dir: string | undefined, options: Record<string, unknown>, plan: StreamPlan | undefined, tally: Tally): Promise<void> {
  const memory = dir === undefined ? new MemoryStore() : undefined;
  const store = memory ?? path.join(dir!, 'fuzz.zarr');
  const written = async (): Promise<number> => (memory ? memory.map.size : (await readdir(store as string).catch(() => [])).length);
  let chain: ZarrChain;
  try {
    // One compression worker: each case starts its own pool. A mutation may replace the store or the workers.
    chain = zarrTransforms({ store, workers: 1, ...options } as unknown as ZarrStreamOptions);
  } catch (error) {
    if (!(error instanceof OptionError)) throw new Error(`zarrTransforms threw ${(error as Error)?.name}, not an OptionError: ${(error as Error)?.message}`, { cause: error });
    await new Promise((resolve) => setImmediate(resolve));
    const keys = await written();
    if (keys > 0) throw new Error(`an OptionError (${error.message}) left ${keys} keys written`);
    tally.optionErrors++;
    return;
  }
  const sink = sinkOf(chain);
  const layout = sink.layouts[0]!;
  const shape = { ...layout.frame, dtype: layout.dtype };
  const levels = sink.layouts.length;
  const method = (options.downsampleMethod as string | undefined) ?? 'mean';
  const tame = levels > 1;
  const frames = (plan?.frames ?? []).map((p, t) => frameValue(p, t, shape, tame));
  const firstBad = frames.findIndex((f) => !f.bytes);
  const ring = plan?.source === 'ring' && options.frameOwnership !== 'transfer' ? plan.ring : undefined;
  const run: Promise<unknown> = ring === undefined ? pipeline(Readable.from(frames.map((f) => f.value), { objectMode: true }), ...chain) : Promise.all([pipeline(chain as unknown as [Writable]), writeAll(chain[0], frames.map((f) => f.value), ring)]);
  let failure: unknown;
  await withinLimit(run, 'the pipeline').catch((error: unknown) => (failure = error));
  // The store is final when pipeline() rejects (issue 9, defect 5): it is read right away.
  const good = firstBad === -1 ? frames : frames.slice(0, firstBad);
  if (firstBad === -1) {
    if (failure) throw failure;
  } else {
    if (!(failure instanceof FrameMismatchError)) throw new Error(`frame ${firstBad} is bad (${plan!.frames[firstBad]!.kind}); expected a FrameMismatchError, got ${failure === undefined ? 'success' : String(failure)}`, { cause: failure });
    if (failure.frameIndex !== firstBad) throw new Error(`FrameMismatchError names frame ${failure.frameIndex}; the first bad one is ${firstBad}`);
  }
  const zarr = memory ? zarritaMemory(memory) : (store as string);
  // A failure before any message reached the sink leaves nothing at all: the store opens with the first write.
  const claimed = firstBad !== -1 && (await written()) === 0 ? 0 : (await openWithZarrita(zarr)).shape[0]!;
  if (firstBad === -1 ? claimed !== frames.length : claimed > firstBad) throw new Error(`level 0 claims ${claimed} frames; ${good.length} were good`);
  if (claimed > 0) {
    const expected = new Uint8Array(claimed * good[0]!.bytes!.byteLength);
    good.slice(0, claimed).forEach((f, t) => expected.set(f.bytes!, t * f.bytes!.byteLength));
    const back = await readWithZarrita(zarr);
    const at = firstDifference(back.bytes, expected);
    if (at !== -1) throw new Error(`level 0: byte ${at} (frame ${Math.floor(at / (expected.byteLength / claimed))}) differs`);
  }
  if (firstBad === -1 && levels > 1 && frames.length > 0) {
    const reference = refPyramid(good.map((f) => fromBytes(shape.dtype, f.bytes!)), layout.frame, levels, shape.dtype, method as never);
    for (let level = 1; level < levels; level++) {
      const back = await readWithZarrita(zarr, String(level));
      const want = reference[level]!.flat();
      const at = sameValues(fromBytes(shape.dtype, back.bytes), want);
      if (at !== -1) throw new Error(`level ${level}: value ${at} is ${fromBytes(shape.dtype, back.bytes)[at]}, the reference says ${want[at]}`);
    }
  }
  if (firstBad === -1) tally.roundTrips++;
  else tally.frameErrors++;
}

test('random valid options and random frame streams (faulty frames, reused buffers) round-trip or fail with a FrameMismatchError', async (t) => {
  const tally: Tally = { roundTrips: 0, optionErrors: 0, frameErrors: 0 };
  await assertProperty(
    fc.asyncProperty(validOptions, streamPlan, (options, plan) => checkCase(options, plan, tally)),
    runs(700),
  );
  t.log(`${tally.roundTrips} round trips, ${tally.frameErrors} FrameMismatchErrors`);
  t.true(tally.roundTrips > 0 && tally.frameErrors > 0);
});

test('random bad options fail with an OptionError before anything is written (or, if accepted, round-trip)', async (t) => {
  const tally: Tally = { roundTrips: 0, optionErrors: 0, frameErrors: 0 };
  await assertProperty(
    fc.asyncProperty(validOptions, mutation, streamPlan, (options, change, plan) => checkCase(mutate(options, change), plan, tally)),
    runs(400),
  );
  t.log(`${tally.optionErrors} OptionErrors; accepted and written: ${tally.roundTrips} round trips, ${tally.frameErrors} FrameMismatchErrors`);
  t.true(tally.optionErrors > 0);
});
