/** The runnable examples in examples/: each exits 0, and what it wrote reads back correctly with zarrita.js. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
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
