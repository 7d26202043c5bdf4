/** multiscale: true end to end: every level read back by zarrita.js (v2, v3) and zarr-python (v2), against the reference pyramid. */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { OptionError } from '../src/options.js';
import type { DType } from '../src/dtype.js';
import type { DownsampleMethod } from '../src/downsample/reduce.js';
import { nativeReduction } from '../src/downsample/native-kernels.js';
import { firstDifference, makeFrames, source, tempDir } from './helpers/frames.js';
import { readWithPython, readWithZarrita, requirePythonZarr } from './helpers/readers.js';
import { fromBytes, refPyramid, refPyramidBytes, toPixels } from './helpers/reference-pyramid.js';
import { validateV2, validateV3 } from './helpers/ngff-schemas.js';

interface Case {
  frames: number;
  width: number;
  height: number;
  planes: number;
  dtype: DType;
  method?: DownsampleMethod;
}

/** Writes a multiscale dataset of synthetic frames; returns the store and the reference pyramid as bytes per level. */
async function writePyramid(c: Case, zarrVersion: 2 | 3) {
  const dir = await tempDir();
  const store = path.join(dir, 'pyramid.zarr');
  const { frames } = makeFrames(c.frames, c.width, c.height, c.planes, c.dtype);
  const chain = zarrTransforms({
    store,
    zarrVersion,
    dtype: c.dtype,
    width: c.width,
    height: c.height,
    planes: c.planes,
    multiscale: true,
    downsampleMethod: c.method,
    pixelScaleUm: { x: 0.5, y: 0.25 },
    chunking: { tileWidth: 8, tileHeight: 6, tilePlanes: 1, framesPerChunk: 2 },
  });
  await pipeline(source(frames), ...chain);
  const shape = { width: c.width, height: c.height, planes: c.planes };
  const levels = chain[0].shapes!.length;
  const reference = refPyramidBytes(
    frames.map((f) => new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength)),
    shape,
    levels,
    c.dtype,
    c.method ?? 'mean',
  );
  return { store, reference, levels };
}

const CASES: Case[] = [
  { frames: 7, width: 37, height: 23, planes: 1, dtype: 'uint16' },
  { frames: 5, width: 32, height: 24, planes: 2, dtype: 'int8' },
  { frames: 6, width: 17, height: 31, planes: 1, dtype: 'float32' },
  { frames: 3, width: 20, height: 13, planes: 1, dtype: 'uint8', method: 'max' },
  { frames: 9, width: 25, height: 19, planes: 1, dtype: 'int64' },
];

for (const zarrVersion of [2, 3] as const) {
  test(`v${zarrVersion}: every level equals the reference pyramid, read by zarrita.js`, async (t) => {
    for (const c of CASES) {
      const { store, reference, levels } = await writePyramid(c, zarrVersion);
      t.true(levels >= 3, `${c.width}x${c.height} with 8x6 tiles has ${levels} levels`);
      for (let level = 0; level < levels; level++) {
        const back = await readWithZarrita(store, String(level));
        const label = `${c.dtype} ${c.width}x${c.height} T=${c.frames} level ${level}`;
        t.is(back.shape[0], Math.ceil(c.frames / 2 ** level), label);
        t.is(back.shape[2], Math.ceil(c.height / 2 ** level), label);
        t.is(firstDifference(back.bytes, reference[level]!.bytes), -1, label);
      }
    }
  });
}

test('v2: zarr-python reads every level equal to the reference pyramid', async (t) => {
  if (!(await requirePythonZarr(t.log))) return t.pass();
  const c = CASES[0]!;
  const { store, reference, levels } = await writePyramid(c, 2);
  for (let level = 0; level < levels; level++) {
    t.is(firstDifference((await readWithPython(store, String(level))).bytes, reference[level]!.bytes), -1, `level ${level}`);
  }
});

test('root metadata validates against the strict OME-NGFF schemas: 0.4 for v2, 0.5 for v3', async (t) => {
  for (const multiscale of [false, true]) {
    const dir = await tempDir();
    for (const zarrVersion of [2, 3] as const) {
      const store = path.join(dir, `v${zarrVersion}.zarr`);
      const { frames } = makeFrames(3, 40, 30, 1, 'uint16');
      await pipeline(source(frames), ...zarrTransforms({ store, zarrVersion, dtype: 'uint16', width: 40, height: 30, multiscale, pixelScaleUm: { x: 0.65, y: 0.65 }, chunking: { tileWidth: 16, tileHeight: 16 } }));
      const levels = multiscale ? 3 : 1;
      if (zarrVersion === 2) {
        const attrs = JSON.parse(await readFile(path.join(store, '.zattrs'), 'utf8'));
        const result = validateV2(attrs);
        t.true(result.ok, result.errors);
        t.is(attrs.multiscales[0].datasets.length, levels);
        t.deepEqual(attrs.multiscales[0].datasets.at(-1).coordinateTransformations[0].scale, [2 ** (levels - 1), 1, 0.65 * 2 ** (levels - 1), 0.65 * 2 ** (levels - 1)]);
      } else {
        const root = JSON.parse(await readFile(path.join(store, 'zarr.json'), 'utf8'));
        const result = validateV3(root.attributes);
        t.true(result.ok, result.errors);
        t.is(root.attributes.ome.multiscales[0].datasets.length, levels);
        for (let level = 0; level < levels; level++) {
          const array = JSON.parse(await readFile(path.join(store, String(level), 'zarr.json'), 'utf8'));
          t.deepEqual(array.dimension_names, ['t', 'c', 'y', 'x']);
        }
      }
    }
  }
});

test('bad multiscale options are refused by name', (t) => {
  const base = { store: 'never.zarr', dtype: 'uint8' as const, width: 8, height: 8 };
  t.throws(() => zarrTransforms({ ...base, multiscale: 'yes' as never }), { instanceOf: OptionError, message: 'multiscale must be true or false, got "yes"' });
  t.throws(() => zarrTransforms({ ...base, downsampleMethod: 'median' as never }), { instanceOf: OptionError, message: /downsampleMethod must be one of mean, min, max, decimate, got "median"/ });
  t.throws(() => zarrTransforms({ ...base, pixelScaleUm: { x: 0, y: 1 } }), { instanceOf: OptionError, message: 'pixelScaleUm.x must be a positive number of micrometers, got 0' });
  t.throws(() => zarrTransforms({ ...base, pixelScaleUm: { x: 1, y: NaN } }), { instanceOf: OptionError, message: 'pixelScaleUm.y must be a positive number of micrometers, got NaN' });
});

test('frames of 1 MiB or more are downsampled on a worker thread or by compiled kernels, compressed or raw, equal to the reference', async (t) => {
  for (const [compression, method] of [[{ codec: 'lz4' as const }, 'mean'], ['none' as const, 'mean'], [{ codec: 'lz4' as const }, 'max'], ['none' as const, 'max']] as const) {
    const dir = await tempDir();
    const store = path.join(dir, 'big.zarr');
    const c = { frames: 5, width: 1024, height: 520, planes: 1, dtype: 'uint16' as const };
    const { frames } = makeFrames(c.frames, c.width, c.height, 1, c.dtype);
    const chain = zarrTransforms({ store, zarrVersion: 3, dtype: c.dtype, width: c.width, height: c.height, multiscale: true, downsampleMethod: method, compression, chunking: { tileWidth: 256, tileHeight: 256, framesPerChunk: 2 } });
    await pipeline(source(frames), ...chain);
    t.is(chain[0].threaded, !nativeReduction(c.dtype, method));
    const reference = refPyramid(
      frames.map((f) => fromBytes(c.dtype, new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength))),
      { width: c.width, height: c.height, planes: 1 },
      3,
      c.dtype,
      method,
    );
    for (let level = 1; level < 3; level++) {
      const back = await readWithZarrita(store, String(level));
      const want = reference[level]!.map((frame) => toPixels(c.dtype, frame));
      const bytes = new Uint8Array(want.reduce((n, p) => n + p.byteLength, 0));
      want.reduce((offset, p) => (bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset), offset + p.byteLength), 0);
      t.is(firstDifference(back.bytes, bytes), -1, `${JSON.stringify(compression)} ${method} level ${level}`);
    }
  }
});
