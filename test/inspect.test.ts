/**
 * `zarr-stream info` and `preview` on stores written by us, by zarr-python and by zarrita.js. Every figure info
 * gives is checked against the files themselves; every preview pixel against a stretch the test computes itself
 * from the frame zarrita.js reads back, with the PNG decoded by pngjs (not the encoder's own decoder).
 */
import test from 'ava';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import { PNG } from 'pngjs';
import * as zarr from 'zarrita';
import { tempDir } from './helpers/frames.js';
import { python, requirePythonZarr } from './helpers/readers.js';
import { describeCodecs } from '../src/inspect/describe.js';
import { cli } from './helpers/cli.js';



async function scratch(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await tempDir('zs-inspect-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Files and bytes below `dir`, metadata documents left out: what info must report as stored. */
async function storedBelow(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || ['zarr.json', '.zarray', '.zattrs', '.zgroup'].includes(entry.name)) continue;
    files++;
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

/** The test's own contrast stretch: nearest-rank 0.5/99.5 percentiles, NaN ignored, linear to 0..255, half up. */
function expectedGrey(values: number[]): { grey: number[]; min: number; max: number } {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const min = sorted[Math.round(0.005 * (sorted.length - 1))]!;
  const max = sorted[Math.round(0.995 * (sorted.length - 1))]!;
  const grey = values.map((v) => (Number.isNaN(v) ? 0 : max > min ? Math.min(255, Math.max(0, Math.floor(((v - min) * 255) / (max - min) + 0.5))) : v > min ? 255 : 0));
  return { grey, min, max };
}

async function pngPixels(file: string): Promise<{ width: number; height: number; grey: number[] }> {
  const png = PNG.sync.read(await readFile(file));
  const grey: number[] = [];
  // pngjs decodes to RGBA; a grey PNG has R = G = B.
  for (let i = 0; i < png.width * png.height; i++) grey.push(png.data[i * 4]!);
  return { width: png.width, height: png.height, grey };
}

async function frameWithZarrita(store: string, arrayPath: string, selection: Array<number | null>): Promise<number[]> {
  const array = await zarr.open(zarr.root(new FileSystemStore(store)).resolve(arrayPath), { kind: 'array' });
  return Array.from((await zarr.get(array, selection)).data as ArrayLike<number>);
}

test('info: our multiscale v3 store, every level, codecs, scales and stored bytes as on disk', async (t) => {
  const dir = await scratch(t);
  const store = path.join(dir, 'ours.zarr');
  const write = await cli(['write', store, '--frames', '6', '--width', '96', '--height', '64', '--planes', '2', '--compression', 'zstd', '--tile-width', '32', '--tile-height', '32', '--multiscale', '--pixel-scale-x', '0.5', '--pixel-scale-y', '0.25']);
  t.is(write.code, 0, write.stderr);
  const run = await cli(['info', store, '--json']);
  t.is(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout);
  t.is(info.zarrFormat, 3);
  t.is(info.ome.version, '0.5');
  t.deepEqual(info.ome.levels, ['0', '1', '2']);
  t.deepEqual(info.arrays.map((a: { path: string }) => a.path), ['/0', '/1', '/2']);
  for (const [level, array] of info.arrays.entries()) {
    const meta = JSON.parse(await readFile(path.join(store, String(level), 'zarr.json'), 'utf8'));
    t.deepEqual(array.shape, meta.shape);
    t.deepEqual(array.chunks, meta.chunk_grid.configuration.chunk_shape);
    t.is(array.dtype, 'uint16');
    t.deepEqual(array.axes, ['t', 'c', 'y', 'x']);
    t.regex(array.codecs, /^bytes\(little\) \+ blosc\(zstd, clevel 1, byte shuffle\)$/);
    const ome = JSON.parse(await readFile(path.join(store, 'zarr.json'), 'utf8')).attributes.ome.multiscales[0];
    t.deepEqual(array.scale, ome.datasets[level].coordinateTransformations[0].scale);
    const stored = await storedBelow(path.join(store, String(level)));
    t.is(array.storedFiles, stored.files);
    t.is(array.storedBytes, stored.bytes);
    t.is(array.arrayBytes, meta.shape.reduce((a: number, b: number) => a * b, 1) * 2);
  }
  t.deepEqual(info.arrays[0].scale, [1, 1, 0.25, 0.5]);
  const text = await cli(['info', store]);
  t.regex(text.stdout, /OME-NGFF 0\.5 image "image": 3 level\(s\) \(0, 1, 2\), axes t \[time\], c \[channel\], y \[space, micrometer\], x \[space, micrometer\]/);
  t.regex(text.stdout, /array \/0: uint16 \(t, c, y, x\) = \(6, 2, 64, 96\)/);
});

test('info and preview: a v2 store written by zarr-python (blosc, float32 with NaN, a nested group)', async (t) => {
  if (!(await requirePythonZarr(t.log.bind(t)))) return t.pass();
  const dir = await scratch(t);
  const store = path.join(dir, 'python.zarr');
  await python(
    [
      'import sys, zarr, numpy as np, numcodecs',
      'root = zarr.open_group(sys.argv[1], mode="w")',
      'a = root.create_dataset("raw", shape=(5, 30, 40), chunks=(2, 16, 16), dtype="float32", compressor=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE))',
      'data = (np.arange(5 * 30 * 40, dtype="float32").reshape(5, 30, 40) % 977) * 0.5',
      'data[1, 3, 4] = np.nan',
      'a[...] = data',
      'g = root.create_group("sub")',
      'g.create_dataset("mask", shape=(8, 8), chunks=(8, 8), dtype="uint8", compressor=None)[...] = np.eye(8, dtype="uint8") * 200',
    ].join('\n'),
    store,
  );
  const run = await cli(['info', store, '--json']);
  t.is(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout);
  t.is(info.zarrFormat, 2);
  t.deepEqual(info.groups, ['/', '/sub']);
  t.is(info.ome, undefined);
  const [raw, mask] = info.arrays;
  t.like(raw, { path: '/raw', dtype: 'float32', shape: [5, 30, 40], chunks: [2, 16, 16], codecs: 'blosc(lz4, clevel 5, bit shuffle)' });
  t.like(mask, { path: '/sub/mask', dtype: 'uint8', shape: [8, 8], codecs: 'none', storedFiles: 1, storedBytes: 64 });
  t.is(raw.storedBytes, (await storedBelow(path.join(store, 'raw'))).bytes);

  // Frame 1 holds the NaN: it is ignored by the percentiles and shown black.
  const out = path.join(dir, 'raw.png');
  const preview = await cli(['preview', store, '--frame', '1', '--out', out, '--json']);
  t.is(preview.code, 0, preview.stderr);
  const frame = await frameWithZarrita(store, 'raw', [1, null, null]);
  const expected = expectedGrey(frame);
  const png = await pngPixels(out);
  t.deepEqual([png.width, png.height], [40, 30]);
  t.deepEqual(png.grey, expected.grey);
  t.like(JSON.parse(preview.stdout), { min: expected.min, max: expected.max, selection: { t: 1 } });
});

test('preview --mip on a v3 store written by zarrita.js, and fixed --min/--max', async (t) => {
  const dir = await scratch(t);
  const store = path.join(dir, 'zarrita.zarr');
  await mkdir(store);
  const fsStore = new FileSystemStore(store);
  await zarr.create(zarr.root(fsStore));
  const array = await zarr.create(zarr.root(fsStore).resolve('stack'), { shape: [4, 2, 12, 20], chunkShape: [1, 1, 12, 10], dtype: 'int16', dimensionNames: ['t', 'c', 'y', 'x'] });
  const data = Int16Array.from({ length: 4 * 2 * 12 * 20 }, (_, i) => ((i * 7919) % 2003) - 1000);
  await zarr.set(array, null, { data, shape: [4, 2, 12, 20], stride: [480, 240, 20, 1] });
  const info = JSON.parse((await cli(['info', store, '--json'])).stdout);
  // zarrita.js writes `"codecs": []` when none are given: info says so rather than inventing the implied bytes codec.
  t.like(info.arrays[0], { path: '/stack', dtype: 'int16', shape: [4, 2, 12, 20], chunks: [1, 1, 12, 10], codecs: 'none', storedFiles: 16 });

  const out = path.join(dir, 'mip.png');
  const run = await cli(['preview', store, '--mip', '--plane', '1', '--out', out]);
  t.is(run.code, 0, run.stderr);
  const frames = await Promise.all([0, 1, 2, 3].map((frame) => frameWithZarrita(store, 'stack', [frame, 1, null, null])));
  const mip = frames[0]!.map((_, i) => Math.max(...frames.map((frame) => frame[i]!)));
  t.deepEqual((await pngPixels(out)).grey, expectedGrey(mip).grey);

  const fixed = path.join(dir, 'fixed.png');
  t.is((await cli(['preview', store, '--frame', '2', '--min', '-100', '--max', '100', '--out', fixed])).code, 0);
  const frame = await frameWithZarrita(store, 'stack', [2, 0, null, null]);
  const grey = frame.map((v) => Math.min(255, Math.max(0, Math.floor(((v + 100) * 255) / 200 + 0.5))));
  t.deepEqual((await pngPixels(fixed)).grey, grey);
});

test('malformed or missing metadata, and requests the store cannot meet: one line naming the file or flag, no stack', async (t) => {
  const dir = await scratch(t);
  const broken = path.join(dir, 'broken.zarr');
  await mkdir(path.join(broken, '0'), { recursive: true });
  await writeFile(path.join(broken, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} }));
  await writeFile(path.join(broken, '0', 'zarr.json'), '{"zarr_format": 3, "node_type": "array", "shape": [2,');
  const cases: Array<[string[], number, RegExp]> = [
    [['info', broken], 1, /broken\.zarr\/0\/zarr\.json: not valid JSON/],
    [['info', dir], 1, /not a Zarr store: it has no zarr\.json, \.zgroup or \.zarray/],
    [['info', path.join(dir, 'nowhere')], 1, /nowhere: no such directory/],
    [['preview', broken], 1, /0\/zarr\.json: not valid JSON/],
  ];
  const ours = path.join(dir, 'ours.zarr');
  t.is((await cli(['write', ours, '--frames', '2', '--width', '16', '--height', '8'])).code, 0);
  cases.push([['preview', ours, '--level', '3'], 2, /--level must be one of 0\.\.0/]);
  cases.push([['preview', ours, '--frame', '2'], 2, /--frame must be below 2 for array \/0, got 2/]);
  cases.push([['preview', ours, '--min', '5'], 2, /--min and --max go together/]);
  for (const [args, code, message] of cases) {
    const run = await cli(args);
    t.is(run.code, code, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message);
    t.is(run.stderr.trim().split('\n').length, 1, run.stderr);
    t.notRegex(run.stderr, /\n\s+at /);
  }
});

test('describeCodecs words v2 compressors and filters, v3 codecs and shards', (t) => {
  t.deepEqual(describeCodecs({ zarr_format: 2, compressor: null, filters: null }), { text: 'none' });
  t.deepEqual(describeCodecs({ zarr_format: 2, compressor: { id: 'zlib', level: 4 }, filters: [{ id: 'delta', dtype: '<u2' }] }), { text: 'delta(dtype "<u2") + zlib(level 4)' });
  const sharded = {
    zarr_format: 3,
    chunk_grid: { name: 'regular', configuration: { chunk_shape: [64, 1, 1024, 1024] } },
    codecs: [
      {
        name: 'sharding_indexed',
        configuration: {
          chunk_shape: [32, 1, 256, 256],
          codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'blosc', configuration: { cname: 'lz4', clevel: 1, shuffle: 'shuffle', typesize: 2 } }],
          index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'crc32c' }],
          index_location: 'end',
        },
      },
    ],
  };
  t.deepEqual(describeCodecs(sharded), { text: 'sharded: bytes(little) + blosc(lz4, clevel 1, byte shuffle) (index end)', innerChunks: [32, 1, 256, 256], chunksPerShard: [2, 1, 4, 4] });
});
