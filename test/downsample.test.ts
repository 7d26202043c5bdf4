/** The Downsampler's pyramid against the independent reference in helpers/reference-pyramid.ts. */
import test from 'ava';
import { DTYPES, type DType } from '../src/dtype.js';
import type { FrameMessage } from '../src/messages.js';
import type { FrameShape } from '../src/chunking/layout.js';
import { DOWNSAMPLE_METHODS, parseDownsampleMethod, type DownsampleMethod } from '../src/downsample/reduce.js';
import { levelShapes, pyramidShapes } from '../src/downsample/levels.js';
import { Downsampler } from '../src/transforms/downsampler.js';
import { PyramidBuilder } from '../src/downsample/pyramid.js';
import { nativeKernels, nativeReduction } from '../src/downsample/native-kernels.js';
import { INT_RANGE, fromBytes, isFloat, refHalveArray, refPyramid, toPixels, type RefFrame, type Value } from './helpers/reference-pyramid.js';

// ------------------------------------------------------------------------------------------ data

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomValue(dtype: DType, rand: () => number, wildFloats = false): Value {
  if (isFloat(dtype)) {
    if (wildFloats) {
      const v = (rand() - 0.5) * 2 ** (rand() * 40 - 10);
      return dtype === 'float32' ? Math.fround(v) : v;
    }
    // Quarters of small integers: every sum and mean is exact in either float type, in any order.
    return Math.floor(rand() * 8001 - 4000) / 4;
  }
  const [lo, hi] = INT_RANGE[dtype]!;
  const r = rand();
  // Extremes often, so overflow in the sums would show.
  if (r < 0.1) return lo;
  if (r < 0.2) return hi;
  if (r < 0.25) return hi - 1n;
  if (r < 0.3) return lo + 1n;
  const span = hi - lo + 1n;
  const big = (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  return lo + (big % span);
}

function randomFrames(dtype: DType, shape: FrameShape, count: number, seed: number, wildFloats = false): RefFrame[] {
  const rand = rng(seed);
  const n = shape.width * shape.height * shape.planes;
  return Array.from({ length: count }, () => Array.from({ length: n }, () => randomValue(dtype, rand, wildFloats)));
}

function frameMessage(dtype: DType, shape: FrameShape, t: number, values: RefFrame): FrameMessage {
  const pixels = toPixels(dtype, values);
  return { kind: 'frame', level: 0, t, ...shape, dtype, bytes: new Uint8Array(pixels.buffer) };
}

function collect(downsampler: Downsampler): Promise<FrameMessage[]> {
  const out: FrameMessage[] = [];
  return new Promise((resolve, reject) => {
    downsampler.on('data', (m: FrameMessage) => out.push(m));
    downsampler.on('end', () => resolve(out));
    downsampler.on('error', reject);
  });
}

async function run(downsampler: Downsampler, frames: FrameMessage[]): Promise<FrameMessage[]> {
  const done = collect(downsampler);
  for (const f of frames) downsampler.write(f);
  downsampler.end();
  return done;
}

function byLevel(messages: FrameMessage[], levels: number): FrameMessage[][] {
  const out: FrameMessage[][] = Array.from({ length: levels }, () => []);
  for (const m of messages) out[m.level].push(m);
  return out;
}

function firstMismatch(got: Value[], want: Value[], tolerance: number): string | undefined {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    if (tolerance > 0 && typeof g === 'number' && typeof w === 'number') {
      if (Math.abs(g - w) <= tolerance * Math.max(1, Math.abs(w))) continue;
    } else if (g === w || (typeof g === 'number' && Number.isNaN(g) && Number.isNaN(w as number))) {
      continue;
    }
    return `index ${i}: got ${g}, want ${w}`;
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------ pixel tests

const SIZES: Array<[number, number]> = [
  [1, 1],
  [2, 2],
  [5, 3],
  [6, 4],
  [7, 9],
  [16, 10],
];
const STREAM_LENGTHS = [1, 2, 3, 5, 7, 12];
const LEVELS = 4;

async function checkPyramid(
  t: import('ava').ExecutionContext,
  dtype: DType,
  method: DownsampleMethod,
  shape: FrameShape,
  count: number,
  seed: number,
  wildFloats = false,
  worker = false,
): Promise<void> {
  const frames = randomFrames(dtype, shape, count, seed, wildFloats);
  const messages = frames.map((f, i) => frameMessage(dtype, shape, i, f));
  const downsampler = new Downsampler({ levels: LEVELS, method, worker });
  const out = await run(downsampler, messages);
  t.is(downsampler.threaded, worker);
  const want = refPyramid(frames, shape, LEVELS, dtype, method);
  const got = byLevel(out, LEVELS);
  const shapes = levelShapes(shape, LEVELS);
  const where = `${dtype} ${method} ${shape.width}x${shape.height}x${shape.planes} T=${count}`;
  const tolerance = wildFloats ? (dtype === 'float32' ? 2e-6 : 1e-12) : 0;
  for (let l = 0; l < LEVELS; l++) {
    t.is(got[l].length, Math.ceil(count / 2 ** l), `${where}: level ${l} frame count`);
    for (let k = 0; k < got[l].length; k++) {
      const m = got[l][k];
      t.is(m.t, k, `${where}: level ${l} t`);
      t.like(m, { kind: 'frame', dtype, width: shapes[l].width, height: shapes[l].height, planes: shapes[l].planes }, `${where}: level ${l} shape`);
      const mismatch = firstMismatch(fromBytes(dtype, m.bytes), want[l][k], tolerance);
      if (mismatch) t.fail(`${where}: level ${l} frame ${k}: ${mismatch}`);
    }
  }
}

for (const dtype of DTYPES) {
  for (const method of DOWNSAMPLE_METHODS) {
    test(`pyramid matches reference: ${dtype} ${method}`, async (t) => {
      let seed = 1;
      for (const [width, height] of SIZES) {
        for (const planes of [1, 2]) {
          for (const count of STREAM_LENGTHS) {
            await checkPyramid(t, dtype, method, { width, height, planes }, count, seed++);
          }
        }
      }
      t.pass();
    });
  }
}

for (const dtype of ['float32', 'float64'] as const) {
  for (const method of DOWNSAMPLE_METHODS) {
    test(`pyramid matches reference for arbitrary floats: ${dtype} ${method}`, async (t) => {
      await checkPyramid(t, dtype, method, { width: 13, height: 11, planes: 2 }, 7, 99, true);
      t.pass();
    });
  }
}

test('integer means round half up exactly, negatives toward +infinity', async (t) => {
  // One 2x2 frame pair per case: an 8-sample mean of a given sum (level 1 is 1x1).
  const cases: Array<[number[], number]> = [
    [[-1, -1, -1, -1, 0, 0, 0, 0], 0], // -0.5 -> 0
    [[-2, -2, -2, -2, -1, -1, -1, -1], -1], // -1.5 -> -1
    [[-3, -3, -3, -3, -2, -2, -2, -2], -2], // -2.5 -> -2
    [[1, 1, 1, 1, 0, 0, 0, 0], 1], // 0.5 -> 1
    [[1, 1, 1, 0, 0, 0, 0, 0], 0], // 0.375 -> 0
    [[-128, -128, -128, -128, -128, -128, -128, -127], -128], // -127.875 -> -128
  ];
  for (const [samples, want] of cases) {
    for (const dtype of ['int8', 'int16', 'int32', 'int64'] as const) {
      const frames = [samples.slice(0, 4), samples.slice(4)].map((v, i) => frameMessage(dtype, { width: 2, height: 2, planes: 1 }, i, v.map((x) => (dtype === 'int64' ? BigInt(x) : x))));
      const out = await run(new Downsampler({ levels: 2 }), frames);
      const level1 = out.filter((m) => m.level === 1);
      t.is(level1.length, 1);
      t.is(Number(fromBytes(dtype, level1[0].bytes)[0]), want, `${dtype} mean of ${samples}`);
    }
  }
  // An unpaired frame: a 4-sample mean, rounded once.
  for (const dtype of ['int8', 'int32', 'int64'] as const) {
    const v = (x: number) => (dtype === 'int64' ? BigInt(x) : x);
    const frames = [frameMessage(dtype, { width: 2, height: 2, planes: 1 }, 0, [v(-1), v(-1), v(0), v(0)])];
    const out = await run(new Downsampler({ levels: 2 }), frames);
    t.is(Number(fromBytes(dtype, out[1].bytes)[0]), 0, `${dtype} -0.5 -> 0`);
  }
});

test('8- and 16-bit means match the reference for any row width and byte alignment', async (t) => {
  // Their kernels read 32-bit words when rows and views allow it: cover each remainder of the unrolled walks, widths
  // that do not fill words, and views that start off a word (shift 1, 2) or on one past the buffer's start (4).
  let seed = 200;
  for (const dtype of ['uint8', 'int8', 'uint16', 'int16'] as const) {
    for (const width of [4, 6, 8, 12, 14, 18, 20, 36]) {
      for (const shift of [0, 1, 2, 4]) {
        const shape = { width, height: 5, planes: 2 };
        const values = randomFrames(dtype, shape, 3, seed++);
        const frames = values.map((v, i) => {
          const m = frameMessage(dtype, shape, i, v);
          const shifted = new Uint8Array(m.bytes.byteLength + shift).subarray(shift);
          shifted.set(m.bytes);
          return { ...m, bytes: shifted };
        });
        const got = byLevel(await run(new Downsampler({ levels: 3 }), frames), 3);
        const want = refPyramid(values, shape, 3, dtype, 'mean');
        for (let l = 1; l < 3; l++) {
          t.is(got[l].length, want[l].length);
          for (let k = 0; k < got[l].length; k++) {
            const mismatch = firstMismatch(fromBytes(dtype, got[l][k].bytes), want[l][k], 0);
            if (mismatch) t.fail(`${dtype} width ${width} shift ${shift}: level ${l} frame ${k}: ${mismatch}`);
          }
        }
      }
    }
  }
});

test('JavaScript and compiled 8- and 16-bit mean kernels both match the reference, for any width and view offset', async (t) => {
  // The JavaScript kernels read 32-bit words when rows and views allow it; views that start 1 or 2 samples into
  // their buffer take each path. The compiled kernels run where the addon is built (always in CI).
  if (!nativeKernels() && process.env.CI) t.fail('the pixel kernels addon must be built in CI');
  const kinds = nativeKernels() ? [false, true] : [false];
  let seed = 900;
  for (const native of kinds) {
    for (const dtype of ['uint8', 'int8', 'uint16', 'int16'] as const) {
      for (const [width, height] of [[4, 5], [6, 4], [13, 7], [36, 3], [1, 1]]) {
        for (const skip of [0, 1, 2]) {
          const shape = { width, height, planes: 2 };
          const values = randomFrames(dtype, shape, 5, seed++);
          const got: Value[][][] = [[], [], []];
          const builder = new PyramidBuilder(levelShapes(shape, 3), dtype, 'mean', (level, _t, pixels) => got[level]!.push(Array.from(pixels as Uint16Array, (v) => BigInt(v))), { native });
          for (const v of values) {
            const pixels = toPixels(dtype, v);
            const Ctor = pixels.constructor as new (n: number) => typeof pixels;
            const view = new Ctor(pixels.length + skip).subarray(skip);
            view.set(pixels as never);
            void builder.add(view);
          }
          await builder.finish();
          const want = refPyramid(values, shape, 3, dtype, 'mean');
          for (let l = 1; l < 3; l++) {
            t.is(got[l]!.length, want[l]!.length);
            got[l]!.forEach((frame, k) => {
              const mismatch = firstMismatch(frame, want[l]![k]!, 0);
              if (mismatch) t.fail(`${native ? 'compiled' : 'JavaScript'} ${dtype} ${width}x${height} skip ${skip}: level ${l} frame ${k}: ${mismatch}`);
            });
          }
        }
      }
    }
  }
  t.pass();
});

test('constant extreme frames stay exact at every level (no overflow in sums)', async (t) => {
  const shape = { width: 5, height: 3, planes: 1 };
  for (const dtype of DTYPES) {
    if (isFloat(dtype)) continue;
    for (const value of INT_RANGE[dtype]!) {
      const frames = Array.from({ length: 5 }, (_, i) => frameMessage(dtype, shape, i, Array(15).fill(value)));
      const out = await run(new Downsampler({ levels: 3 }), frames);
      for (const m of out) {
        t.true(fromBytes(dtype, m.bytes).every((x) => x === value), `${dtype} constant ${value} at level ${m.level}`);
      }
    }
  }
});

// ------------------------------------------------------------------------------------------ stream behaviour

test('level-0 frames pass through unchanged, levels interleave as pairs complete', async (t) => {
  const shape = { width: 4, height: 4, planes: 1 };
  const frames = randomFrames('uint16', shape, 5, 7).map((f, i) => frameMessage('uint16', shape, i, f));
  const out = await run(new Downsampler({ levels: 3 }), frames);
  t.deepEqual(
    out.map((m) => `${m.level}:${m.t}`),
    ['0:0', '0:1', '1:0', '0:2', '0:3', '1:1', '2:0', '0:4', '1:2', '2:1'],
  );
  t.deepEqual(out.filter((m) => m.level === 0), frames);
  // Validated and numbered here, not trusted as they come; their bytes are not copied (frameOwnership 'transfer').
  frames.forEach((f, i) => t.is(out.filter((m) => m.level === 0)[i]!.bytes, f.bytes));
});

test('frame messages from a source are numbered by the Downsampler: a repeated or made-up t does not survive', async (t) => {
  const shape = { width: 4, height: 2, planes: 1 };
  const frames = randomFrames('uint16', shape, 3, 9).map((f) => frameMessage('uint16', shape, 0, f));
  frames[2]!.t = 41;
  const out = await run(new Downsampler({ levels: 1 }), frames);
  t.deepEqual(out.map((m) => m.t), [0, 1, 2]);
});

test('every pushed frame owns its buffer', async (t) => {
  const shape = { width: 6, height: 6, planes: 2 };
  for (const method of DOWNSAMPLE_METHODS) {
    const frames = randomFrames('uint8', shape, 9, 3).map((f, i) => frameMessage('uint8', shape, i, f));
    const out = await run(new Downsampler({ levels: 3, method }), frames);
    const buffers = new Set(out.map((m) => m.bytes.buffer));
    t.is(buffers.size, out.length, method);
  }
});

test('on a worker thread, every dtype and method matches the reference, odd sizes and stream lengths', async (t) => {
  let seed = 100;
  for (const dtype of DTYPES) {
    for (const method of DOWNSAMPLE_METHODS) {
      await checkPyramid(t, dtype, method, { width: 7, height: 9, planes: 2 }, 7, seed++, false, true);
    }
  }
});

test('on a worker thread, the producer may reuse its buffer once the frame is written', async (t) => {
  const shape = { width: 6, height: 4, planes: 1 };
  const values = randomFrames('uint16', shape, 3, 12);
  const want = refPyramid(values, shape, 2, 'uint16', 'mean');
  const ds = new Downsampler({ levels: 2, worker: true });
  const done = collect(ds);
  const buffer = frameMessage('uint16', shape, 0, values[0]);
  for (let i = 0; i < 3; i++) {
    buffer.bytes.set(frameMessage('uint16', shape, i, values[i]).bytes);
    await new Promise<void>((resolve) => ds.write({ ...buffer, t: i }, () => resolve()));
  }
  ds.end();
  const level1 = (await done).filter((m) => m.level === 1);
  t.is(level1.length, 2);
  t.is(firstMismatch(fromBytes('uint16', level1[0].bytes), want[1][0], 0), undefined);
  t.is(firstMismatch(fromBytes('uint16', level1[1].bytes), want[1][1], 0), undefined);
});

/** Storage-order (C order over `sizes`) indices of every position, listed in the acquisition order `order`. */
function inAcquisitionOrder(sizes: readonly number[], order: readonly number[]): number[] {
  let positions: number[][] = [[]];
  for (const d of order) positions = positions.flatMap((p) => Array.from({ length: sizes[d] }, (_, c) => [...p, c]));
  // positions hold coordinates in `order`'s sequence: put them back in storage order before ravelling.
  return positions.map((q) => {
    const position: number[] = [];
    order.forEach((d, i) => (position[d] = q[i]));
    return position.reduce((index, c, d) => index * sizes[d] + c, 0);
  });
}

test('a 5-D (t, c, z, y, x) array acquired t,c,z or t,z,c with z halved: levels 1 and 2 are the (z, y, x) mean pyramid, inline and on a worker', async (t) => {
  const sizes = [2, 2, 5]; // t, c, z
  const shape = { width: 7, height: 9, planes: 1 };
  const stored = randomFrames('uint16', shape, 2 * 2 * 5, 500);
  const level1 = refHalveArray(stored, sizes, 2, shape, 'uint16', 'mean');
  const level2 = refHalveArray(level1.frames, level1.sizes, 2, level1.shape, 'uint16', 'mean');
  const want = [{ frames: stored, sizes, shape }, level1, level2];
  for (const order of [[0, 1, 2], [0, 2, 1]]) {
    const pairing = [
      { sizes: [0, 2, 5], acquisition: order, halved: 2 },
      { sizes: [0, 2, 3], acquisition: order, halved: 2 },
    ];
    const input = inAcquisitionOrder(sizes, order).map((index, k) => frameMessage('uint16', shape, k, stored[index]));
    for (const worker of [false, true]) {
      const where = `acquired ${order.map((d) => 'tcz'[d]).join(',')}${worker ? ' on a worker' : ' inline'}`;
      const downsampler = new Downsampler({ levels: 3, pairing, worker });
      const got = byLevel(await run(downsampler, input), 3);
      t.is(downsampler.threaded, worker);
      for (let l = 1; l < 3; l++) {
        const expected = inAcquisitionOrder(want[l].sizes, order).map((index) => want[l].frames[index]);
        t.is(got[l].length, expected.length, `${where}: level ${l} frame count`);
        got[l].forEach((m, k) => {
          t.like(m, { t: k, width: want[l].shape.width, height: want[l].shape.height }, `${where}: level ${l} frame ${k}`);
          const mismatch = firstMismatch(fromBytes('uint16', m.bytes), expected[k], 0);
          if (mismatch) t.fail(`${where}: level ${l} frame ${k}: ${mismatch}`);
        });
      }
    }
  }
});

test('the worker thread is used by default for frames of 1 MiB or more, unless a compiled kernel runs inline', async (t) => {
  const big = { width: 1024, height: 512, planes: 1 };
  const frames = randomFrames('uint16', big, 2, 3).map((f, i) => frameMessage('uint16', big, i, f));
  for (const method of ['min', 'mean'] as const) {
    const ds = new Downsampler({ levels: 2, method });
    const out = await run(ds, frames);
    t.is(ds.threaded, !nativeReduction('uint16', method), method);
    t.is(out.filter((m) => m.level === 1).length, 1);
  }
  t.false(new Downsampler({ levels: 2 }).threaded);
});

test('a pending frame keeps no reference to its input bytes', async (t) => {
  const shape = { width: 4, height: 2, planes: 1 };
  const values = randomFrames('int16', shape, 2, 11);
  const want = refPyramid(values, shape, 2, 'int16', 'mean');
  const ds = new Downsampler({ levels: 2 });
  const done = collect(ds);
  const first = frameMessage('int16', shape, 0, values[0]);
  // The producer reuses its buffer once the write is done (compiled kernels read it until then).
  ds.write(first, () => first.bytes.fill(0x55));
  ds.write(frameMessage('int16', shape, 1, values[1]));
  ds.end();
  const out = await done;
  const level1 = out.filter((m) => m.level === 1);
  t.is(firstMismatch(fromBytes('int16', level1[0].bytes), want[1][0], 0), undefined);
});

test('misaligned input bytes are read correctly', async (t) => {
  const shape = { width: 3, height: 3, planes: 1 };
  const values = randomFrames('float32', shape, 2, 5);
  const frames = values.map((v, i) => {
    const m = frameMessage('float32', shape, i, v);
    const shifted = new Uint8Array(m.bytes.byteLength + 1).subarray(1);
    shifted.set(m.bytes);
    return { ...m, bytes: shifted };
  });
  const out = await run(new Downsampler({ levels: 2 }), frames);
  const want = refPyramid(values, shape, 2, 'float32', 'mean');
  t.is(firstMismatch(fromBytes('float32', out[2].bytes), want[1][0], 0), undefined);
});

test('levels: 1 passes frames through; shapes from pyramidShapes drive the levels', async (t) => {
  const shape = { width: 10, height: 6, planes: 1 };
  const frames = randomFrames('uint8', shape, 3, 1).map((f, i) => frameMessage('uint8', shape, i, f));
  t.deepEqual(await run(new Downsampler({ levels: 1 }), frames), frames);

  const shapes = pyramidShapes(shape, 4, 4);
  t.deepEqual(shapes, [
    { width: 10, height: 6, planes: 1 },
    { width: 5, height: 3, planes: 1 },
    { width: 3, height: 2, planes: 1 },
  ]);
  const ds = new Downsampler({ levels: shapes });
  const out = await run(ds, frames);
  t.deepEqual(
    out.filter((m) => m.level > 0).map((m) => [m.level, m.t, m.width, m.height]),
    [
      [1, 0, 5, 3],
      [1, 1, 5, 3],
      [2, 0, 3, 2],
    ],
  );
  t.deepEqual(ds.shapes, shapes);
});

test('options are validated with the field and value named', (t) => {
  t.throws(() => new Downsampler({ levels: 2, method: 'median' as DownsampleMethod }), {
    message: 'method must be one of mean, min, max, decimate; got "median"',
  });
  t.throws(() => parseDownsampleMethod('median'), { message: 'downsampleMethod must be one of mean, min, max, decimate; got "median"' });
  t.is(parseDownsampleMethod(undefined), 'mean');
  t.throws(() => new Downsampler({ levels: 0 }), { message: 'levels must be a positive integer; got 0' });
  t.throws(() => new Downsampler({ levels: 1.5 }), { message: /levels must be a positive integer; got 1.5/ });
  t.throws(() => new Downsampler({ levels: [] }), { message: /levels must be a positive integer or a non-empty list/ });
  t.throws(
    () =>
      new Downsampler({
        levels: [
          { width: 5, height: 5, planes: 1 },
          { width: 2, height: 3, planes: 1 },
        ],
      }),
    { message: /levels\[1\] must be 3x3x1 .*got 2x3x1/ },
  );
  t.throws(() => new Downsampler({ levels: 3, pairing: [{ sizes: [0, 5], acquisition: [0, 1], halved: 1 }] }), {
    message: 'pairing must hold one spec per level transition (2 for 3 levels); got 1 specs',
  });
  t.throws(() => new Downsampler({ levels: 2, pairing: [{ sizes: [0, 5], acquisition: [0, 1], halved: 2 }] }), {
    message: 'pairing[0].halved must be an index of sizes (0..1) or -1 (none); got 2',
  });
});

async function streamError(frames: FrameMessage[], options = { levels: 2 }): Promise<Error> {
  const ds = new Downsampler(options);
  ds.resume();
  const failed = new Promise<Error>((resolve) => ds.on('error', resolve));
  for (const f of frames) ds.write(f);
  ds.end();
  return failed;
}

test('bad frames fail the stream through the callback, naming what is wrong', async (t) => {
  const shape = { width: 4, height: 4, planes: 1 };
  const ok = (i: number) => frameMessage('uint16', shape, i, randomFrames('uint16', shape, 1, i)[0]);
  t.regex((await streamError([{ ...ok(0), level: 1 }])).message, /expects level-0 frames; got level 1/);
  t.regex((await streamError([ok(0), { ...ok(1), width: 5 }])).message, /frame width must be 4 .*got 5 at t=1/);
  t.regex((await streamError([ok(0), frameMessage('int16', shape, 1, Array(16).fill(0))])).message, /frame dtype must stay uint16 .*got int16 at t=1/);
  t.regex((await streamError([{ ...ok(0), bytes: new Uint8Array(31) }])).message, /frame bytes must hold 32 bytes .*got 31 bytes at t=0/);
  t.regex((await streamError([{ ...ok(0), dtype: 'uint12' as DType }])).message, /frame dtype must be a supported dtype; got "uint12"/);
  const fixed = { levels: [shape, { width: 2, height: 2, planes: 1 }] } as unknown as { levels: number };
  t.regex((await streamError([frameMessage('uint8', { width: 4, height: 3, planes: 1 }, 0, Array(12).fill(0))], fixed)).message, /frame height must be 4/);
});

// ------------------------------------------------------------------------------------------ level arithmetic

test('pyramidShapes adds levels until a frame fits one tile: 1920x1080 with 384x216 tiles', (t) => {
  t.deepEqual(
    pyramidShapes({ width: 1920, height: 1080, planes: 3 }, 384, 216).map((s) => [s.width, s.height, s.planes]),
    [
      [1920, 1080, 3],
      [960, 540, 3],
      [480, 270, 3],
      [240, 135, 3],
    ],
  );
});

test('pyramidShapes: odd extents round up, either axis can drive the count, 0 or oversize tiles mean one level', (t) => {
  const dims = (shapes: FrameShape[]) => shapes.map((s) => `${s.width}x${s.height}`);
  t.deepEqual(dims(pyramidShapes({ width: 1001, height: 7, planes: 1 }, 100, 0)), ['1001x7', '501x4', '251x2', '126x1', '63x1']);
  t.deepEqual(dims(pyramidShapes({ width: 7, height: 1001, planes: 1 }, 0, 100)), ['7x1001', '4x501', '2x251', '1x126', '1x63']);
  t.deepEqual(dims(pyramidShapes({ width: 5, height: 3, planes: 1 }, 1, 1)), ['5x3', '3x2', '2x1', '1x1']);
  t.deepEqual(dims(pyramidShapes({ width: 2048, height: 2048, planes: 1 }, 2048, 2048)), ['2048x2048']);
  t.deepEqual(dims(pyramidShapes({ width: 2048, height: 2048, planes: 1 }, 0, 0)), ['2048x2048']);
  t.deepEqual(dims(pyramidShapes({ width: 2048, height: 2048, planes: 1 }, 4096, 4096)), ['2048x2048']);
  t.deepEqual(dims(pyramidShapes({ width: 2048, height: 2048, planes: 1 })), ['2048x2048']);
  t.is(pyramidShapes({ width: 2048, height: 2048, planes: 1 }, 256, 256).length, 4);
  t.is(pyramidShapes({ width: 2049, height: 2048, planes: 1 }, 256, 256).length, 5);
});

test('levelShapes halves a frame a given number of times', (t) => {
  t.deepEqual(levelShapes({ width: 9, height: 4, planes: 2 }, 3), [
    { width: 9, height: 4, planes: 2 },
    { width: 5, height: 2, planes: 2 },
    { width: 3, height: 1, planes: 2 },
  ]);
  t.throws(() => levelShapes({ width: 9, height: 4, planes: 2 }, 0), { message: 'levels must be a positive integer; got 0' });
});

test('pyramidShapes rejects bad tiles and frames, naming them', (t) => {
  const frame = { width: 10, height: 10, planes: 1 };
  t.throws(() => pyramidShapes(frame, -1, 4), { message: 'tileWidth must be a non-negative integer (0 means the whole extent); got -1' });
  t.throws(() => pyramidShapes(frame, 4, 2.5), { message: 'tileHeight must be a non-negative integer (0 means the whole extent); got 2.5' });
  t.throws(() => pyramidShapes({ ...frame, width: 0 }, 4, 4), { message: 'frame.width must be a positive integer; got 0' });
  t.throws(() => pyramidShapes({ ...frame, planes: Number.NaN }, 4, 4), { message: 'frame.planes must be a positive integer; got NaN' });
});
