/**
 * Chunks compressed as their frames arrive (the native engine's streamed path): the files are byte for byte those
 * of whole-chunk compression, every pixel reads back through zarrita.js and zarr-python, stores whose writers cannot
 * overwrite still get whole chunks, and a slow store still holds the source back.
 */
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sinkOf, zarrTransforms, type ZarrChain } from '../src/zarr-transforms.js';
import type { ZarrStreamOptions } from '../src/options.js';
import { nativeEngineAvailable } from '../src/codecs/engine.js';
import { parseBloscHeader } from '../src/codecs/blosc-header.js';
import { resolveLayout } from '../src/chunking/layout.js';
import { TileSplitter } from '../src/transforms/tile-splitter.js';
import { ChunkAccumulator } from '../src/transforms/chunk-accumulator.js';
import { ZarrSink } from '../src/sinks/zarr-sink.js';
import { BloscCompressor } from '../src/transforms/blosc-compressor.js';
import { FileSystemStore } from '../src/stores/fs-store.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import { bufferingWriter, type StoreWriter } from '../src/stores/store.js';
import { firstDifference, makeFrames, randomBytes, source, tempDir } from './helpers/frames.js';
import { readWithPython, readWithZarrita, requirePythonZarr } from './helpers/readers.js';
import { SlowStore, maxFramesAheadOfStore } from './helpers/slow-store.js';

const native = nativeEngineAvailable() ? test : test.skip;
if (!nativeEngineAvailable() && process.env.CI) test('the native engine is built in CI', (t) => t.fail('blosc addon missing'));

// 128 x 128 uint16 tiles are 32 KiB; lz4 at clevel 1 uses 64 KiB blocks on these chunks: segments of 4 frames
// (2 make whole blocks, doubled towards 2 MiB while a chunk stays two segments or more).
// 37 frames leave the last chunk row short (5 of 8 frames), so padding is compressed too.
const SHAPE = { frames: 37, width: 300, height: 200 };
const CHUNKING = { tileWidth: 128, tileHeight: 128, framesPerChunk: 8 };

function options(store: ZarrStreamOptions['store'], extra: Partial<ZarrStreamOptions>): ZarrStreamOptions {
  return { store, dtype: 'uint16', width: SHAPE.width, height: SHAPE.height, chunking: CHUNKING, engine: 'native', workers: 2, ...extra };
}

async function write(extra: Partial<ZarrStreamOptions>, store?: ZarrStreamOptions['store']): Promise<{ store: string; chain: ZarrChain }> {
  const dir = store ?? path.join(await tempDir(), 'streamed.zarr');
  const frames = makeFrames(SHAPE.frames, SHAPE.width, SHAPE.height, 1, 'uint16');
  const chain = zarrTransforms(options(dir, extra));
  await pipeline(source(frames.frames), ...chain);
  return { store: typeof dir === 'string' ? dir : '', chain };
}

async function files(root: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      out.set(path.relative(root, file), new Uint8Array(await readFile(file)));
    }
  }
  return out;
}

for (const zarrVersion of [2, 3] as const) {
  for (const codec of ['lz4', 'zstd'] as const) {
    native(`v${zarrVersion} ${codec}, multiscale: streamed chunks are byte for byte those of whole-chunk compression`, async (t) => {
      const compression = { codec, clevel: 1, shuffle: 'byte' as const };
      const streamed = await write({ zarrVersion, multiscale: true, compression });
      const whole = await write({ zarrVersion, multiscale: true, compression: { ...compression, streamBlocks: false } });
      const compressor = streamed.chain[3];
      t.true(compressor.blockPlans[0] !== undefined, 'level 0 streams');
      t.deepEqual(whole.chain[3].blockPlans.filter(Boolean), [], 'streamBlocks: false compresses whole chunks');
      const a = await files(streamed.store);
      const b = await files(whole.store);
      t.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
      for (const [key, bytes] of a) t.is(firstDifference(bytes, b.get(key)!), -1, `${key}: first difference`);
      t.true(a.size > 20);
    });
  }
}

native('streamed chunks read back pixel for pixel through zarrita.js (v3) and zarr-python (v2)', async (t) => {
  const expected = makeFrames(SHAPE.frames, SHAPE.width, SHAPE.height, 1, 'uint16').bytes;
  const v3 = await write({ zarrVersion: 3, compression: { codec: 'lz4' } });
  t.truthy(v3.chain[3].blockPlans[0]);
  t.is(firstDifference((await readWithZarrita(v3.store)).bytes, expected), -1);
  const v2 = await write({ zarrVersion: 2, compression: { codec: 'zstd', shuffle: 'bit' } });
  t.truthy(v2.chain[3].blockPlans[0]);
  t.is(firstDifference((await readWithZarrita(v2.store)).bytes, expected), -1);
  if (await requirePythonZarr(t.log)) t.is(firstDifference((await readWithPython(v2.store)).bytes, expected), -1);
});

native('a store without createWriter, and one whose writer cannot overwrite, get the same chunks', async (t) => {
  const reference = await files((await write({ zarrVersion: 3, compression: { codec: 'lz4' } })).store);
  class AppendOnlyStore extends MemoryStore {
    writers = 0;
    createWriter(key: string): StoreWriter {
      this.writers++;
      const inner = bufferingWriter(this, key);
      return { append: (data) => inner.append(data), commit: (n) => inner.commit(n), abort: () => inner.abort() };
    }
  }
  for (const store of [new MemoryStore(), new AppendOnlyStore()]) {
    await write({ zarrVersion: 3, compression: { codec: 'lz4' } }, store);
    for (const [key, bytes] of reference) {
      const stored = store.map.get(key.split(path.sep).join('/'));
      t.truthy(stored, `${store.constructor.name}: ${key} stored`);
      t.is(firstDifference(stored!, bytes), -1, `${store.constructor.name}: ${key}`);
    }
  }
});

native('a slow store holds the source back on the streamed path too', async (t) => {
  const store = new SlowStore();
  const chain = zarrTransforms(options(store, { compression: { codec: 'lz4' }, workers: 1 }));
  t.truthy(chain[3].blockPlans[0]);
  const { ahead: maxAhead, stored } = await maxFramesAheadOfStore(chain, 200, SHAPE.width, SHAPE.height);
  t.is(stored, 200);
  // A row filling, segments (4 frames each here) in flight and queued for the store, and the queues between stages:
  // 30-60 frames measured, whatever the length of the stream; the other 140+ frames waited for the store.
  t.true(maxAhead <= 8 * CHUNKING.framesPerChunk, `source ran ${maxAhead} frames ahead of the stored rows`);
  t.log(`max frames ahead of the stored rows: ${maxAhead}`);
});

test('compression.streamBlocks must be a boolean', (t) => {
  t.throws(() => zarrTransforms(options('/nonexistent/never-made', { compression: { codec: 'lz4', streamBlocks: 'yes' as never } })), {
    message: /compression\.streamBlocks.*"yes"/,
  });
});

native('a failure mid-stream leaves the stored rows readable and no temporary files; a failing store names its key', async (t) => {
  const store = path.join(await tempDir(), 'failed.zarr');
  const { frames, bytes } = makeFrames(20, SHAPE.width, SHAPE.height, 1, 'uint16');
  const chain = zarrTransforms(options(store, { zarrVersion: 3, compression: { codec: 'lz4' }, multiscale: true }));
  t.truthy(chain[3].blockPlans[0]);
  const sink = sinkOf(chain);
  async function* failing() {
    yield* frames;
    // Two rows (16 frames) stored; the third row's chunks are open, mid-segment, when the camera fails.
    while (sink.progress.frames[0]! < 16) await new Promise((resolve) => setTimeout(resolve, 5));
    throw new Error('camera unplugged');
  }
  await t.throwsAsync(pipeline(failing(), ...chain), { message: 'camera unplugged' });
  const back = await readWithZarrita(store);
  t.deepEqual(back.shape, [16, 1, SHAPE.height, SHAPE.width]);
  t.is(firstDifference(back.bytes, bytes.subarray(0, back.bytes.byteLength)), -1);
  const names = (await readdir(store, { recursive: true })).map(String);
  t.false(names.some((name) => name.includes('.partial')), names.join(' '));

  class FlakyStore extends MemoryStore {
    override async set(key: string, value: Uint8Array): Promise<void> {
      if (key === '0/c/1/0/1/1') throw new Error('disk full');
      return super.set(key, value);
    }
  }
  const flaky = new FlakyStore();
  const error = await t.throwsAsync(pipeline(source(makeFrames(20, SHAPE.width, SHAPE.height, 1, 'uint16').frames), ...zarrTransforms(options(flaky, { compression: { codec: 'lz4' } }))), {
    message: 'store key "0/c/1/0/1/1": disk full',
  });
  t.is((error as Error & { key?: string }).key, '0/c/1/0/1/1');
  // Rows complete concurrently here, so row 0 may or may not have been published when row 1 failed; whatever
  // the metadata says must be there, and row 1 cannot be.
  const shape = JSON.parse(new TextDecoder().decode(await flaky.get('0/zarr.json'))).shape as number[];
  t.true(shape[0] === 0 || shape[0] === 8, `metadata says ${shape[0]} frames`);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) if (shape[0] === 8) t.truthy(flaky.map.get(`0/c/0/0/${y}/${x}`));
});

// numcodecs picks its blocksize itself (a power of two up to 1 MiB), so wasm segments are whole MiBs: 256 x 128
// uint16 tiles (64 KiB) and 32 frames per chunk make 2 MiB chunks of two 1 MiB segments.
const WASM_CHUNKING = { tileWidth: 256, tileHeight: 128, framesPerChunk: 32 };

test('wasm, multiscale: streamed chunks are byte for byte those of whole-chunk compression', async (t) => {
  for (const zarrVersion of [2, 3] as const) {
    const compression = { codec: 'lz4' as const, clevel: 1, shuffle: 'byte' as const };
    const extra = { engine: 'wasm' as const, chunking: WASM_CHUNKING, zarrVersion, multiscale: true };
    const streamed = await write({ ...extra, compression });
    const whole = await write({ ...extra, compression: { ...compression, streamBlocks: false } });
    t.like(streamed.chain[3].blockPlans[0], { blocksize: 0, segmentBytes: 2 ** 20 });
    const a = await files(streamed.store);
    const b = await files(whole.store);
    t.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [key, bytes] of a) t.is(firstDifference(bytes, b.get(key)!), -1, `v${zarrVersion} ${key}: first difference`);
  }
});

test('wasm: incompressible frames become stored blocks that zarrita.js and zarr-python read back', async (t) => {
  const { width, height } = SHAPE;
  const frames = Array.from({ length: 40 }, (_, t) => new Uint16Array(randomBytes(width * height * 2, 99 + t).buffer));
  const expected = new Uint8Array(frames.length * width * height * 2);
  frames.forEach((f, i) => expected.set(new Uint8Array(f.buffer), i * f.byteLength));
  for (const [zarrVersion, codec] of [[2, 'lz4'], [3, 'zstd']] as const) {
    const store = path.join(await tempDir(), `random-v${zarrVersion}.zarr`);
    const chain = zarrTransforms(options(store, { engine: 'wasm', chunking: WASM_CHUNKING, zarrVersion, compression: { codec, clevel: 1 } }));
    t.truthy(chain[3].blockPlans[0]);
    await pipeline(source(frames), ...chain);
    const chunk = new Uint8Array(await readFile(path.join(store, '0', ...(zarrVersion === 2 ? ['0', '0', '0', '0'] : ['c', '0', '0', '0', '0']))));
    t.false(parseBloscHeader(chunk).memcpyed, 'a chunk of blocks, not a plain copy');
    t.is(firstDifference((await readWithZarrita(store)).bytes, expected), -1, `v${zarrVersion} zarrita.js`);
    if (zarrVersion === 2 && (await requirePythonZarr(t.log))) t.is(firstDifference((await readWithPython(store)).bytes, expected), -1, 'zarr-python');
  }
});

test('a tile-region part that reaches the sink is refused with the chunk key', async (t) => {
  const layouts = [resolveLayout({ width: 16, height: 8, planes: 1 }, 'uint16', { framesPerChunk: 2 }).layout];
  const store = new MemoryStore();
  await t.throwsAsync(
    pipeline(
      source(makeFrames(2, 16, 8, 1, 'uint16').frames),
      new TileSplitter({ layouts }),
      new ChunkAccumulator({ layouts, mode: 'regions' }),
      new ZarrSink({ store, zarrVersion: 3, layouts }),
    ),
    { message: /chunk 0\/c\/0\/0\/0\/0: a part that names a tile region reached the sink/ },
  );
});

test('planes split across chunks and ragged edge tiles: streamed chunks read back pixel for pixel, both engines', async (t) => {
  // 2 of 3 planes per chunk and 300 x 200 frames in 128 x 128 tiles: every chunk of the last column, row and plane
  // is padded. A tile is 64 KiB, so segments are 32 frames (2 MiB) and a 64-frame chunk is two of them.
  const shape = { frames: 70, width: 300, height: 200, planes: 3 };
  const { frames, bytes } = makeFrames(shape.frames, shape.width, shape.height, shape.planes, 'uint16');
  for (const engine of nativeEngineAvailable() ? (['native', 'wasm'] as const) : (['wasm'] as const)) {
    const store = path.join(await tempDir(), `planes-${engine}.zarr`);
    const chain = zarrTransforms({
      store,
      dtype: 'uint16',
      width: shape.width,
      height: shape.height,
      planes: shape.planes,
      chunking: { tileWidth: 128, tileHeight: 128, tilePlanes: 2, framesPerChunk: 64 },
      compression: { codec: 'zstd', clevel: 1 },
      engine,
      workers: 2,
    });
    t.like(chain[3].blockPlans[0], { segmentFrames: 32 }, engine);
    await pipeline(source(frames), ...chain);
    t.is(firstDifference((await readWithZarrita(store)).bytes, bytes), -1, engine);
  }
});

test('hand-assembled: a compressor that streams takes raw chunk parts too, with the same result as tile regions', async (t) => {
  const layouts = [resolveLayout({ width: SHAPE.width, height: SHAPE.height, planes: 1 }, 'uint16', CHUNKING).layout];
  const { frames, bytes } = makeFrames(SHAPE.frames, SHAPE.width, SHAPE.height, 1, 'uint16');
  const stored: Array<Map<string, Uint8Array>> = [];
  for (const mode of ['parts', 'regions'] as const) {
    const compressor = new BloscCompressor({ codec: 'lz4', dtype: 'uint16', workers: 2, layouts });
    t.truthy(compressor.blockPlans[0], 'level 0 streams');
    const store = new MemoryStore();
    await pipeline(
      source(frames),
      new TileSplitter({ layouts }),
      new ChunkAccumulator({ layouts, mode }),
      compressor,
      new ZarrSink({ store, zarrVersion: 3, layouts, codecs: compressor.codecs }),
    );
    stored.push(store.map);
  }
  const [parts, regions] = stored as [Map<string, Uint8Array>, Map<string, Uint8Array>];
  t.deepEqual([...parts.keys()].sort(), [...regions.keys()].sort());
  for (const [key, value] of parts) t.is(firstDifference(value, regions.get(key)!), -1, key);
  // And the pixels are the frames, read by an independent reader from a copy on disk.
  const dir = path.join(await tempDir(), 'parts.zarr');
  const fsStore = new FileSystemStore(dir);
  for (const [key, value] of parts) await fsStore.set(key, value);
  t.is(firstDifference((await readWithZarrita(dir)).bytes, bytes), -1);
});
