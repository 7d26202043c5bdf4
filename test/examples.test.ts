/** The runnable examples in examples/: each exits 0, and what it wrote reads back correctly with zarrita.js. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { syntheticFrames } from '../src/frames/synthetic.js';
import { zarrTransforms } from '../src/zarr-transforms.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstDifference, makeFrames, tempDir } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

/** Runs dist/examples/<name>.js with `args` and returns its exit code and output. */
function runExample(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(EXAMPLES, `${name}.js`), ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A fresh directory for one example's output, removed when the test ends. */
async function outPath(t: { teardown: (fn: () => Promise<void>) => void }, name: string): Promise<string> {
  const dir = await tempDir('zs-example-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, `${name}.zarr`);
}

test('write-synthetic: the standard frames, lz4-compressed v3', async (t) => {
  const out = await outPath(t, 'write-synthetic');
  const run = await runExample('write-synthetic', [out, '6', '160', '96']);
  t.is(run.code, 0, run.stderr);
  const back = await readWithZarrita(out);
  t.deepEqual(back.shape, [6, 1, 96, 160]);
  t.deepEqual(back.chunks.slice(1), [1, 96, 128]);
  t.is(firstDifference(back.bytes, makeFrames(6, 160, 96, 1, 'uint16').bytes), -1);
});

test('custom-source: a camera generator into a compressed two-plane pyramid', async (t) => {
  const out = await outPath(t, 'custom-source');
  const run = await runExample('custom-source', [out, '7']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /readable frames per level: 7 \/ 4 \/ 2/);
  const [width, height, planes, frames] = [200, 150, 2, 7];
  // The formula of cameraPixel() in examples/custom-source.ts.
  const expected = new Uint16Array(frames * planes * height * width);
  let i = 0;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < planes; c++) {
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) expected[i++] = (1000 * c + 10 * f + 3 * y + x) & 0xffff;
    }
  }
  const level0 = await readWithZarrita(out, '0');
  t.deepEqual(level0.shape, [7, 2, 150, 200]);
  t.deepEqual(level0.chunks, [4, 1, 64, 64]);
  t.is(firstDifference(level0.bytes, new Uint8Array(expected.buffer)), -1);
  t.deepEqual((await readWithZarrita(out, '1')).shape, [4, 2, 75, 100]);
  t.deepEqual((await readWithZarrita(out, '2')).shape, [2, 2, 38, 50]);
});

test('memory-store: keys listed, then copied to a directory that reads as Zarr v2', async (t) => {
  const out = await outPath(t, 'memory-store');
  const run = await runExample('memory-store', [out]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^0\/\.zarray /m);
  t.regex(run.stdout, /^0\/2\/0\/1\/1 /m);
  const back = await readWithZarrita(out);
  t.deepEqual(back.shape, [5, 1, 40, 48]);
  t.deepEqual(back.chunks, [2, 1, 32, 32]);
  t.is(firstDifference(back.bytes, makeFrames(5, 48, 40, 1, 'uint8').bytes), -1);
});

test('custom-store: a logging Store over FileSystemStore', async (t) => {
  const out = await outPath(t, 'custom-store');
  const run = await runExample('custom-store', [out]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /stored 0\/c\/1\/0\/1\/1 \(6144 bytes\)/);
  const back = await readWithZarrita(out);
  t.deepEqual(back.shape, [6, 1, 64, 64]);
  t.is(firstDifference(back.bytes, makeFrames(6, 64, 64, 1, 'uint16').bytes), -1);
});

test('custom-sink: a Writable of its own on the chain\'s messages sees every chunk exactly as ZarrSink stores it', async (t) => {
  const dir = await tempDir('zs-example-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const manifestPath = path.join(dir, 'manifest.json');
  const run = await runExample('custom-sink', [manifestPath]);
  t.is(run.code, 0, run.stderr);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, { bytes: number; sha256: string }>;
  // The same frames and options (those of examples/custom-sink.ts) through zarr-stream's own sink.
  const store = path.join(dir, 'reference.zarr');
  await pipeline(
    syntheticFrames({ frames: 10, width: 96, height: 80, dtype: 'uint16' }),
    ...zarrTransforms({ store, zarrVersion: 3, dtype: 'uint16', width: 96, height: 80, chunking: { tileWidth: 64, tileHeight: 64, framesPerChunk: 4 }, compression: { codec: 'lz4' }, multiscale: true }),
  );
  const files = (await readdir(store, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile() && entry.name !== 'zarr.json');
  const stored: Record<string, { bytes: number; sha256: string }> = {};
  for (const entry of files) {
    const bytes = await readFile(path.join(entry.parentPath, entry.name));
    stored[path.relative(store, path.join(entry.parentPath, entry.name)).split(path.sep).join('/')] = { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  t.true(Object.keys(stored).length >= 10);
  t.deepEqual(manifest, stored);
});
