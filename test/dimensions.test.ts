/**
 * N-D `dimensions`: 5-D (t, c, z, y, x) arrays written from 2-D frames in an acquisition order, read back pixel for
 * pixel by zarrita.js (and zarr-python for v2) against an array assembled here by nested loops, independently of the
 * writer's placement arithmetic.
 */
import test from 'ava';
import { pipeline } from 'node:stream/promises';
import { estimateMemory, MemoryStore, OptionError, zarrTransforms, type ZarrStreamOptions } from '../src/index.js';
import type { Dimension } from '../src/chunking/dimensions.js';
import { syntheticFrame } from '../src/frames/synthetic.js';
import { firstDifference, source, tempDir } from './helpers/frames.js';
import { readWithPython, readWithZarrita, requirePythonZarr, zarritaMemory } from './helpers/readers.js';
import type { Frame } from '../src/messages.js';
import { validateV2, validateV3 } from './helpers/ngff-schemas.js';
import { fromBytes, refHalveArray, toPixels } from './helpers/reference-pyramid.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const [T, C, Z, Y, X] = [3, 2, 5, 9, 7];

function dims(chunks: [number, number, number, number, number], size0 = 0): Dimension[] {
  return [
    { name: 't', kind: 'time', size: size0, chunk: chunks[0], unit: 'second', scale: 2.5 },
    { name: 'c', kind: 'channel', size: C, chunk: chunks[1] },
    { name: 'z', kind: 'space', size: Z, chunk: chunks[2], unit: 'micrometer', scale: 2 },
    { name: 'y', kind: 'space', size: Y, chunk: chunks[3], unit: 'micrometer', scale: 0.5 },
    { name: 'x', kind: 'space', size: X, chunk: chunks[4], unit: 'micrometer', scale: 0.5 },
  ];
}

/**
 * `count` 2-D frames in acquisition order `order` (outer to inner over t, c, z), frame k the standard frame with
 * t = k, and the (t, c, z, y, x) array they make (zeros where no frame came).
 */
function acquire(order: string, count: number): { frames: Frame[]; expected: Uint8Array } {
  const frames: Frame[] = [];
  const frameBytes = Y * X * 2;
  const steps = Math.ceil(count / (C * Z));
  const expected = new Uint8Array(steps * C * Z * frameBytes);
  const sizes: Record<string, number> = { t: steps, c: C, z: Z };
  const [a, b, c] = order.split('') as [string, string, string];
  let k = 0;
  for (let i = 0; i < sizes[a]!; i++) {
    for (let j = 0; j < sizes[b]!; j++) {
      for (let l = 0; l < sizes[c]!; l++) {
        if (k === count) break;
        const at: Record<string, number> = { [a]: i, [b]: j, [c]: l };
        const frame = syntheticFrame(k++, X, Y, 1, 'uint16');
        frames.push(frame);
        expected.set(new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), (((at.t! * C + at.c!) * Z + at.z!) * frameBytes));
      }
    }
  }
  return { frames, expected };
}

interface Case {
  order: string;
  chunks: [number, number, number, number, number];
  frames: number;
  options?: Partial<ZarrStreamOptions>;
}

async function roundTrip(t: import('ava').ExecutionContext, c: Case, zarrVersion: 2 | 3): Promise<MemoryStore> {
  const store = new MemoryStore();
  const { frames, expected } = acquire(c.order, c.frames);
  const acquisitionOrder = c.order.split('');
  await pipeline(source(frames), ...zarrTransforms({ store, zarrVersion, dtype: 'uint16', dimensions: dims(c.chunks), acquisitionOrder, ...c.options }));
  const back = await readWithZarrita(zarritaMemory(store));
  t.deepEqual(back.shape, [Math.ceil(c.frames / (C * Z)), C, Z, Y, X]);
  t.is(firstDifference(back.bytes, expected), -1);
  const root = JSON.parse(new TextDecoder().decode(store.map.get(zarrVersion === 2 ? '.zattrs' : 'zarr.json')!));
  if (zarrVersion === 3) {
    const valid = validateV3(root.attributes);
    t.true(valid.ok, valid.errors);
    t.deepEqual(JSON.parse(new TextDecoder().decode(store.map.get('0/zarr.json')!)).dimension_names, ['t', 'c', 'z', 'y', 'x']);
  } else {
    const valid = validateV2(root);
    t.true(valid.ok, valid.errors);
  }
  return store;
}

const CASES: Record<string, Case> = {
  'z inside c, raw, chunks 1x1x2x4x4': { order: 'tcz', chunks: [1, 1, 2, 4, 4], frames: T * C * Z },
  'c inside z, raw (out of order: chunks fill whole)': { order: 'tzc', chunks: [1, 2, 2, 4, 4], frames: T * C * Z },
  'c inside z, chunk c 1 (streams)': { order: 'tzc', chunks: [2, 1, 3, 4, 4], frames: T * C * Z },
  'z inside c, t chunk 2 with odd z edge (gaps zero-filled), lz4': { order: 'tcz', chunks: [2, 1, 2, 4, 8], frames: T * C * Z, options: { compression: { codec: 'lz4' } } },
  'c inside z, lz4 whole chunks': { order: 'tzc', chunks: [2, 2, 2, 8, 4], frames: T * C * Z, options: { compression: { codec: 'lz4' } } },
  'stream ends mid-volume (z inside c)': { order: 'tcz', chunks: [2, 1, 2, 4, 4], frames: C * Z + 7 },
  'stream ends mid-volume, lz4, c inside z': { order: 'tzc', chunks: [2, 2, 2, 4, 4], frames: C * Z + 3, options: { compression: { codec: 'lz4' } } },
};

for (const [name, c] of Object.entries(CASES)) {
  for (const zarrVersion of [2, 3] as const) {
    test(`5-D v${zarrVersion}: ${name}`, async (t) => {
      await roundTrip(t, c, zarrVersion);
    });
  }
}

test('5-D v3 sharded (shards 1x2x2x2x1 chunks), lz4, c inside z', async (t) => {
  const shard = [1, 2, 2, 2, 1];
  const dimensions = dims([1, 1, 2, 4, 4]).map((d, i) => ({ ...d, shard: shard[i]! }));
  const store = new MemoryStore();
  const { frames, expected } = acquire('tzc', T * C * Z);
  await pipeline(source(frames), ...zarrTransforms({ store, dtype: 'uint16', dimensions, acquisitionOrder: ['t', 'z', 'c'], compression: { codec: 'lz4' } }));
  const back = await readWithZarrita(zarritaMemory(store));
  t.is(firstDifference(back.bytes, expected), -1);
  const meta = JSON.parse(new TextDecoder().decode(store.map.get('0/zarr.json')!));
  t.deepEqual(meta.chunk_grid.configuration.chunk_shape, [1, 2, 4, 8, 4]);
  t.deepEqual(meta.codecs[0].configuration.chunk_shape, [1, 1, 2, 4, 4]);
});

test('5-D v2 read back by zarr-python', async (t) => {
  if (!(await requirePythonZarr(t.log))) return t.pass();
  const dir = await tempDir();
  const storePath = path.join(dir, 'five.zarr');
  const { frames, expected } = acquire('tzc', T * C * Z);
  await pipeline(source(frames), ...zarrTransforms({ store: storePath, zarrVersion: 2, dtype: 'uint16', dimensions: dims([2, 1, 2, 4, 4]), acquisitionOrder: ['t', 'z', 'c'], compression: { codec: 'zstd' } }));
  const back = await readWithPython(storePath);
  t.deepEqual(back.shape, [T, C, Z, Y, X]);
  t.is(firstDifference(back.bytes, expected), -1);
  const zattrs = JSON.parse(await readFile(path.join(storePath, '.zattrs'), 'utf8'));
  t.deepEqual(zattrs.multiscales[0].axes, [
    { name: 't', type: 'time', unit: 'second' },
    { name: 'c', type: 'channel' },
    { name: 'z', type: 'space', unit: 'micrometer' },
    { name: 'y', type: 'space', unit: 'micrometer' },
    { name: 'x', type: 'space', unit: 'micrometer' },
  ]);
  t.deepEqual(zattrs.multiscales[0].datasets[0].coordinateTransformations[0].scale, [2.5, 1, 2, 0.5, 0.5]);
});

test('a fixed size along the append dimension is a limit: one frame more is an error, what fits is stored', async (t) => {
  const store = new MemoryStore();
  const { frames } = acquire('tcz', 2 * C * Z + 1);
  const error = await t.throwsAsync(pipeline(source(frames), ...zarrTransforms({ store, dtype: 'uint16', dimensions: dims([1, 1, 2, 4, 4], 2) })));
  t.regex(error!.message, /frame 20: the array holds 20 frames/);
  // Frames in flight when the error came are aborted: the metadata claims the complete time points, and they read back.
  const back = await readWithZarrita(zarritaMemory(store));
  t.true(back.shape[0]! <= 2);
  t.deepEqual(back.shape.slice(1), [C, Z, Y, X]);
  t.is(firstDifference(back.bytes, acquire('tcz', back.shape[0]! * C * Z).expected), -1);
});

for (const order of ['tcz', 'tzc']) {
  for (const zarrVersion of [2, 3] as const) {
    test(`5-D multiscale, acquired ${order.split('').join(',')}, odd z, lz4, v${zarrVersion}: every level is the 2x2x2 (z, y, x) mean pyramid`, async (t) => {
      const dir = await tempDir();
      const storePath = path.join(dir, 'pyramid.zarr');
      const { frames, expected } = acquire(order, T * C * Z);
      await pipeline(
        source(frames),
        ...zarrTransforms({ store: storePath, zarrVersion, dtype: 'uint16', dimensions: dims([1, 1, 2, 4, 4]), acquisitionOrder: order.split(''), compression: { codec: 'lz4' }, multiscale: true }),
      );
      // The reference: the whole 5-D array halved in z, y and x, level by level (frames in C order over t, c, z).
      let level = { frames: Array.from({ length: T * C * Z }, (_, i) => fromBytes('uint16', expected.subarray(i * Y * X * 2, (i + 1) * Y * X * 2))), sizes: [T, C, Z], shape: { width: X, height: Y, planes: 1 } };
      const python = zarrVersion === 2 && (await requirePythonZarr(t.log));
      const shapes: number[][] = [];
      for (let l = 0; l < 3; l++) {
        const want = concat(level.frames.map((frame) => toPixels('uint16', frame)));
        const back = await readWithZarrita(storePath, String(l));
        shapes.push(back.shape);
        t.is(firstDifference(back.bytes, want), -1, `level ${l}`);
        if (python) t.is(firstDifference((await readWithPython(storePath, String(l))).bytes, want), -1, `level ${l} (zarr-python)`);
        level = refHalveArray(level.frames, level.sizes, 2, level.shape, 'uint16', 'mean');
      }
      t.deepEqual(shapes, [[3, 2, 5, 9, 7], [3, 2, 3, 5, 4], [3, 2, 2, 3, 2]]);
      const attrs = JSON.parse(await readFile(path.join(storePath, zarrVersion === 2 ? '.zattrs' : 'zarr.json'), 'utf8'));
      const ome = zarrVersion === 2 ? attrs : attrs.attributes;
      const valid = zarrVersion === 2 ? validateV2(ome) : validateV3(ome);
      t.true(valid.ok, valid.errors);
      const multiscale = zarrVersion === 2 ? ome.multiscales[0] : ome.ome.multiscales[0];
      t.deepEqual(multiscale.datasets.map((d: { coordinateTransformations: Array<{ scale: number[] }> }) => d.coordinateTransformations[0]!.scale), [
        [2.5, 1, 2, 0.5, 0.5],
        [2.5, 1, 4, 1, 1],
        [2.5, 1, 8, 2, 2],
      ]);
      t.deepEqual(multiscale.metadata.kwargs.factors, { t: 1, c: 1, z: 2, y: 2, x: 2 });
    });
  }
}

function concat(parts: ArrayLike<number>[] | Array<{ buffer: ArrayBufferLike; byteOffset: number; byteLength: number }>): Uint8Array {
  const views = (parts as Array<{ buffer: ArrayBufferLike; byteOffset: number; byteLength: number }>).map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  const out = new Uint8Array(views.reduce((n, v) => n + v.byteLength, 0));
  let at = 0;
  for (const view of views) {
    out.set(view, at);
    at += view.byteLength;
  }
  return out;
}

test('shorthand with downsampleTime false and maxLevels 2: level 1 keeps every frame, halved in y and x only', async (t) => {
  const store = new MemoryStore();
  const frames = Array.from({ length: 5 }, (_, k) => syntheticFrame(k, 16, 12, 1, 'uint16'));
  await pipeline(source(frames), ...zarrTransforms({ store, dtype: 'uint16', width: 16, height: 12, multiscale: true, downsampleTime: false, maxLevels: 2, chunking: { tileWidth: 4, tileHeight: 3, framesPerChunk: 2 } }));
  t.false(store.map.has('2/zarr.json'));
  const back = await readWithZarrita(zarritaMemory(store), '1');
  t.deepEqual(back.shape, [5, 1, 6, 8]);
  const level1 = refHalveArray(frames.map((f) => fromBytes('uint16', new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength))), [5], -1, { width: 16, height: 12, planes: 1 }, 'uint16', 'mean');
  t.is(firstDifference(back.bytes, concat(level1.frames.map((frame) => toPixels('uint16', frame)))), -1);
  const root = JSON.parse(new TextDecoder().decode(store.map.get('zarr.json')!));
  t.deepEqual(root.attributes.ome.multiscales[0].datasets[1].coordinateTransformations[0].scale, [1, 1, 2, 2]);
  t.true(validateV3(root.attributes).ok);
});

test('a 5-D shape whose open chunks exceed maxMemory is refused before anything is written, with the numbers', async (t) => {
  const store = new MemoryStore();
  // Channels alternate at each z and a chunk spans both: chunks fill whole, 16 tiles x 1 GiB-chunks... far past 1 GiB.
  const dimensions: Dimension[] = [
    { name: 't', kind: 'time', size: 0, chunk: 1 },
    { name: 'c', kind: 'channel', size: 2, chunk: 2 },
    { name: 'z', kind: 'space', size: 128, chunk: 64 },
    { name: 'y', kind: 'space', size: 2048, chunk: 512 },
    { name: 'x', kind: 'space', size: 2048, chunk: 512 },
  ];
  const options = { store, dtype: 'uint16' as const, dimensions, acquisitionOrder: ['t', 'z', 'c'], maxMemory: 2 ** 30 };
  const error = t.throws(() => zarrTransforms(options), { instanceOf: OptionError });
  t.regex(error!.message, /need an estimated [\d.]+ GiB of memory \(chunks [\d.]+ GiB.*more than maxMemory 1\.00 GiB/);
  t.is(store.map.size, 0);
  // The same shape acquired in storage order streams: its bound is a small fraction.
  t.true(estimateMemory({ ...options, acquisitionOrder: ['t', 'c', 'z'], maxMemory: undefined }).bytes < 2 ** 30);
});

test('5-D at a path, with per-frame metadata: one metadata line per 2-D frame, in acquisition order', async (t) => {
  const store = new MemoryStore();
  const { frames, expected } = acquire('tzc', T * C * Z);
  const described = frames.map((frame, k) => ({ ...frame, metadata: { k } }));
  await pipeline(source(described), ...zarrTransforms({ store, path: 'pos0', dtype: 'uint16', dimensions: dims([1, 1, 2, 4, 4]), acquisitionOrder: ['t', 'z', 'c'] }));
  t.is(firstDifference((await readWithZarrita(zarritaMemory(store), 'pos0/0')).bytes, expected), -1);
  const lines = new TextDecoder().decode((await readWithZarrita(zarritaMemory(store), 'pos0/frame_metadata')).bytes).trimEnd().split('\n');
  t.deepEqual(lines.map((line) => JSON.parse(line).k), frames.map((_, k) => k));
});
