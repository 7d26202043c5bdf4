/** Bad input gets a clear error naming the field and value, before anything is written; failures leave readable data. */
import test from 'ava';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sinkOf, zarrTransforms } from '../src/zarr-transforms.js';
import { OptionError, type ZarrStreamOptions } from '../src/options.js';
import { FrameMismatchError } from '../src/frames/normalize.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import { syntheticFrame } from '../src/frames/synthetic.js';
import { firstDifference, makeFrames, source, tempDir } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';

const GOOD: ZarrStreamOptions = { store: 'unused', dtype: 'uint16', width: 16, height: 8, chunking: { framesPerChunk: 2 } };

const BAD_OPTIONS: Array<[string, Partial<ZarrStreamOptions>, RegExp]> = [
  ['store', { store: '' }, /store must be .*got ""/],
  ['store', { store: 42 as never }, /store must be .*got 42/],
  ['zarrVersion', { zarrVersion: 4 as never }, /zarrVersion must be 2 or 3, got 4/],
  ['dtype', { dtype: 'uint12' as never }, /dtype must be one of .*got "uint12"/],
  ['width', { width: 0 }, /width must be an integer >= 1, got 0/],
  ['height', { height: 2.5 }, /height must be an integer >= 1, got 2.5/],
  ['planes', { planes: -1 }, /planes must be an integer >= 1, got -1/],
  ['chunking.tileWidth', { chunking: { tileWidth: -4 } }, /chunking.tileWidth must be a non-negative integer, got -4/],
  ['chunking.tileHeight', { chunking: { tileHeight: 1.5 } }, /chunking.tileHeight must be a non-negative integer, got 1.5/],
  ['chunking.tilePlanes', { chunking: { tilePlanes: '2' as never } }, /chunking.tilePlanes must be a non-negative integer, got "2"/],
  ['chunking.maxBytesPerChunk', { chunking: { maxBytesPerChunk: 0 } }, /chunking.maxBytesPerChunk must be an integer >= 1, got 0/],
  ['chunking.framesPerChunk', { chunking: { framesPerChunk: 0 } }, /chunking.framesPerChunk must be an integer >= 1, got 0/],
  ['overwrite', { overwrite: 'yes' as never }, /overwrite must be true or false, got "yes"/],
];

for (const [field, patch, message] of BAD_OPTIONS) {
  test(`bad option ${field}=${JSON.stringify(Object.values(patch)[0])} is refused by name, nothing written`, async (t) => {
    const dir = await tempDir();
    const store = path.join(dir, 'out.zarr');
    const error = t.throws(() => zarrTransforms({ ...GOOD, store, ...patch }), { instanceOf: OptionError, message });
    t.is(error!.field, field);
    t.false(existsSync(store));
  });
}

test('a non-empty directory is refused without overwrite (by the running pipeline), and left as it was', async (t) => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'precious.txt'), 'keep me');
  await t.throwsAsync(pipeline(source([]), ...zarrTransforms({ ...GOOD, store: dir })), { message: /store .* is not empty; pass overwrite: true/ });
  t.deepEqual(await readdir(dir), ['precious.txt']);
});

test('overwrite: true replaces what a Zarr store held', async (t) => {
  const dir = await tempDir();
  await pipeline(source(makeFrames(5, 16, 8, 1, 'uint16').frames), ...zarrTransforms({ ...GOOD, store: dir, zarrVersion: 2 }));
  const { frames, bytes } = makeFrames(3, 16, 8, 1, 'uint16');
  await pipeline(source(frames), ...zarrTransforms({ ...GOOD, store: dir, overwrite: true }));
  t.false(existsSync(path.join(dir, '.zgroup')));
  t.is(firstDifference((await readWithZarrita(dir)).bytes, bytes), -1);
});

test('a custom store that is not empty is refused through the stream', async (t) => {
  const store = new MemoryStore();
  await store.set('something', new Uint8Array(1));
  await t.throwsAsync(pipeline(source([]), ...zarrTransforms({ ...GOOD, store })), { message: /store memory store is not empty; pass overwrite: true/ });
});

test('a frame of the wrong shape or dtype names its index, what was expected and what came', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [syntheticFrame(0, 16, 9, 1, 'uint16'), /^frame 2: expected 16x8x1 uint16 \(256 bytes\), got 16x9x1 uint16$/],
    [syntheticFrame(0, 16, 8, 1, 'int16'), /^frame 2: expected 16x8x1 uint16 \(256 bytes\), got 16x8x1 int16$/],
    [{ ...syntheticFrame(0, 16, 8, 1, 'uint16'), planes: 2 }, /^frame 2: expected 16x8x1 uint16 \(256 bytes\), got 16x8x2 uint16$/],
    [new Float32Array(128), /^frame 2: expected 16x8x1 uint16 \(256 bytes\), got a Float32Array \(float32 data\)$/],
    [new Uint16Array(100), /^frame 2: expected 16x8x1 uint16 \(256 bytes\), got 200 bytes of uint16$/],
    [Buffer.alloc(255), /^frame 2: expected 16x8x1 uint16 \(256 bytes\), got 255 bytes of raw data$/],
    ['a string', /^frame 2: expected a Frame object or a TypedArray .*got string "a string"$/],
    [{ data: new Uint16Array(128), width: 16, height: 8, dtype: 'u16' }, /^frame 2: expected .* got 16x8x1 "u16"$/],
  ];
  for (const [bad, message] of cases) {
    const good = makeFrames(2, 16, 8, 1, 'uint16').frames;
    await t.throwsAsync(pipeline(source([...good, bad]), ...zarrTransforms({ ...GOOD, store: new MemoryStore() })), { instanceOf: FrameMismatchError, message });
  }
});

test('an error in the middle of a stream leaves the completed chunk rows readable, and no temporary files', async (t) => {
  for (const [zarrVersion, compression] of [[2, 'none'], [3, 'none'], [2, { codec: 'lz4' }], [3, { codec: 'zstd' }]] as const) {
    const dir = await tempDir();
    const store = path.join(dir, 'out.zarr');
    const { frames, bytes } = makeFrames(8, 37, 23, 1, 'uint16');
    const chain = zarrTransforms({ store, zarrVersion, compression, multiscale: true, dtype: 'uint16', width: 37, height: 23, chunking: { tileWidth: 16, tileHeight: 16, framesPerChunk: 3 } });
    const sink = sinkOf(chain);
    async function* failing() {
      yield* frames;
      // Wait until two chunk rows (6 frames) are stored, so the failure hits with row 3 half written.
      while (sink.progress.frames[0]! < 6) await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('camera unplugged');
    }
    // The store is final when pipeline() rejects (issue 9, defect 5): read it right away.
    await t.throwsAsync(pipeline(failing(), ...chain), { message: 'camera unplugged' });
    const back = await readWithZarrita(store);
    t.deepEqual(back.shape, [6, 1, 23, 37]);
    t.is(firstDifference(back.bytes, bytes.subarray(0, back.bytes.byteLength)), -1);
    const files = (await readdir(store, { recursive: true })).map(String);
    t.false(files.some((file) => file.includes('.partial')), files.join(' '));
  }
});

test('a failing store fails the pipeline with an error naming the key; metadata still matches the stored rows', async (t) => {
  class FlakyStore extends MemoryStore {
    override async set(key: string, value: Uint8Array): Promise<void> {
      if (key === '0/c/1/0/0/0') throw new Error('disk full');
      return super.set(key, value);
    }
  }
  const store = new FlakyStore();
  const { frames } = makeFrames(6, 16, 8, 1, 'uint16');
  const error = await t.throwsAsync(pipeline(source(frames), ...zarrTransforms({ ...GOOD, store })), { message: 'store key "0/c/1/0/0/0": disk full' });
  t.is((error as Error & { key?: string }).key, '0/c/1/0/0/0');
  const metadata = JSON.parse(new TextDecoder().decode(await store.get('0/zarr.json')));
  t.deepEqual(metadata.shape, [2, 1, 8, 16]);
});

test('the 16 MiB floor is reported as a warning event and through onWarning', async (t) => {
  const seen: string[] = [];
  const chain = zarrTransforms({ ...GOOD, store: new MemoryStore(), chunking: { maxBytesPerChunk: 1024 }, onWarning: (m) => seen.push(m) });
  const events: string[] = [];
  sinkOf(chain).on('warning', (m: string) => events.push(m));
  await pipeline(source([]), ...chain);
  t.is(seen.length, 1);
  t.deepEqual(events, seen);
  t.regex(seen[0]!, /maxBytesPerChunk 1024 is below the 16 MiB minimum/);
  t.is(JSON.parse(new TextDecoder().decode(await sinkOf(chain).store.get('0/zarr.json'))).chunk_grid.configuration.chunk_shape[0], 65536);
});

test('metadata on disk follows completed chunk rows during the stream', async (t) => {
  const dir = await tempDir();
  const store = path.join(dir, 'out.zarr');
  const chain = zarrTransforms({ ...GOOD, store, zarrVersion: 2, chunking: { framesPerChunk: 2 } });
  const sink = sinkOf(chain);
  const zarray = path.join(store, '0', '.zarray');
  const shapes: number[] = [];
  const { frames } = makeFrames(5, 16, 8, 1, 'uint16');
  const until = async (ready: () => boolean) => {
    for (let i = 0; i < 2000 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  async function* observed() {
    for (const [index, frame] of frames.entries()) {
      yield frame;
      // A frame that completes a chunk row must show up; others must not, until their row does.
      if ((index + 1) % 2 === 0) await until(() => sink.progress.frames[0]! >= index + 1);
      // The sink opens the store (0 frames) when the first frame reaches it.
      await until(() => existsSync(zarray));
      shapes.push(JSON.parse(await readFile(zarray, 'utf8')).shape[0]);
    }
  }
  await pipeline(observed(), ...chain);
  shapes.push(JSON.parse(await readFile(zarray, 'utf8')).shape[0]);
  t.deepEqual(shapes, [0, 2, 2, 4, 4, 5]);
});

test('an AbortSignal given to pipeline() stops the write cleanly: stored rows readable, no temporary files', async (t) => {
  const dir = await tempDir();
  const store = path.join(dir, 'aborted.zarr');
  const chain = zarrTransforms({ ...GOOD, store, zarrVersion: 3, compression: { codec: 'lz4' } });
  const controller = new AbortController();
  sinkOf(chain).on('progress', (progress: { frames: number[] }) => {
    if (progress.frames[0]! >= 4) controller.abort();
  });
  async function* endless() {
    for (let t = 0; ; t++) yield syntheticFrame(t, 16, 8, 1, 'uint16');
  }
  // The store is final when pipeline() rejects (issue 9, defect 5): read it right away.
  await t.throwsAsync(pipeline(endless(), ...chain, { signal: controller.signal }), { name: 'AbortError' });
  const back = await readWithZarrita(store);
  t.true(back.shape[0] >= 4 && back.shape[0] % 2 === 0, `shape ${back.shape}`);
  t.is(firstDifference(back.bytes, makeFrames(back.shape[0], 16, 8, 1, 'uint16').bytes), -1);
  const files = (await readdir(store, { recursive: true })).map(String);
  t.false(files.some((file) => file.includes('.partial')));
});

test("'progress' ends with the final counts, reported once", async (t) => {
  for (const frames of [4, 5]) {
    const chain = zarrTransforms({ ...GOOD, store: new MemoryStore(), chunking: { framesPerChunk: 2 } });
    const seen: Array<{ frames: number[]; chunks: number }> = [];
    sinkOf(chain).on('progress', (progress) => seen.push(progress));
    await pipeline(source(makeFrames(frames, 16, 8, 1, 'uint16').frames), ...chain);
    t.deepEqual(seen.at(-1)?.frames, [frames]);
    t.notDeepEqual(seen.at(-2), seen.at(-1), `${frames} frames: ${JSON.stringify(seen)}`);
  }
});
