/** The highland adapter: frames from a highland stream read back exactly; errors fail the write; backpressure holds. */
import test from 'ava';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import highland from 'highland';
import { highlandReadable, writeHighland, zarrThrough } from '../src/adapters/highland.js';
import { OptionError, type ZarrStreamOptions } from '../src/options.js';
import { FrameMismatchError } from '../src/frames/normalize.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import type { SinkProgress } from '../src/sinks/zarr-sink.js';
import type { FrameInput } from '../src/messages.js';
import { syntheticFrame } from '../src/frames/synthetic.js';
import { firstDifference, makeFrames, tempDir } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';
import { SlowStore, delay } from './helpers/slow-store.js';

const RAGGED = { dtype: 'uint16', width: 37, height: 23, chunking: { tileWidth: 16, tileHeight: 10, framesPerChunk: 3 } } as const;

for (const zarrVersion of [2, 3] as const) {
  test(`v${zarrVersion}: a highland stream of Frames, TypedArrays and Buffers reads back pixel for pixel`, async (t) => {
    const dir = await tempDir();
    const store = path.join(dir, 'out.zarr');
    const { frames, bytes } = makeFrames(8, 37, 23, 1, 'uint16');
    // A highland pipeline of the kind users have: transformed values, three input forms mixed.
    const stream = highland(frames.map((frame, t) => ({ frame, t }))).map(({ frame, t }): FrameInput => {
      if (t % 3 === 1) return frame.data;
      if (t % 3 === 2) return Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
      return frame;
    });
    const progress = await writeHighland(stream, { ...RAGGED, store, zarrVersion });
    t.deepEqual(progress.frames, [8]);
    t.is(progress.chunks, 3 * 3 * 3);
    const back = await readWithZarrita(store);
    t.deepEqual(back.shape, [8, 1, 23, 37]);
    t.is(firstDifference(back.bytes, bytes), -1);
  });
}

test('zarrThrough: a lazy highland stream of progress, ending when all is written; its last value is the final progress', async (t) => {
  const dir = await tempDir();
  const store = path.join(dir, 'out.zarr');
  const { frames, bytes } = makeFrames(7, 37, 23, 1, 'uint16');
  const progress = highland<FrameInput>(frames).through(zarrThrough({ ...RAGGED, store }));
  await delay(20);
  t.false(existsSync(store), 'nothing is opened before the stream is consumed');
  const seen = await new Promise<SinkProgress[]>((resolve, reject) => progress.collect().toCallback((error, values) => (error ? reject(error) : resolve(values!))));
  t.true(seen.length >= 3, `${seen.length} progress values`);
  const frameCounts = seen.map((p) => p.frames[0]!);
  t.deepEqual([...frameCounts].sort((a, b) => a - b), frameCounts, 'frames never go backwards');
  const last = seen.at(-1)!;
  t.deepEqual([last.frames, last.chunks], [[7], 3 * 3 * 3]);
  t.is(last.bytes, Math.max(...seen.map((p) => p.bytes)));
  const back = await readWithZarrita(store);
  t.deepEqual(back.shape, [7, 1, 23, 37]);
  t.is(firstDifference(back.bytes, bytes), -1);
});

test('an error thrown in a highland .map rejects the write, destroys the highland stream, and leaves the stored rows readable', async (t) => {
  for (const zarrVersion of [2, 3] as const) {
    const dir = await tempDir();
    const store = path.join(dir, 'out.zarr');
    const { frames, bytes } = makeFrames(8, 37, 23, 1, 'uint16');
    const metadata = path.join(store, '0', zarrVersion === 2 ? '.zarray' : 'zarr.json');
    const storedFrames = async () => (existsSync(metadata) ? (JSON.parse(await readFile(metadata, 'utf8')) as { shape: number[] }).shape[0]! : 0);
    const unplugged = new Error('camera unplugged');
    const stream = highland<number>([0, 1, 2, 3, 4, 5, 6, 7, 8])
      .flatMap((t) =>
        highland(
          (async () => {
            // Wait until two chunk rows (6 frames) are on disk, so the failure hits with row 3 half written.
            if (t === 8) for (let i = 0; i < 2000 && (await storedFrames()) < 6; i++) await delay(5);
            return t;
          })(),
        ),
      )
      .map((t) => {
        if (t === 8) throw unplugged;
        return frames[t]!;
      });
    const error = await t.throwsAsync(writeHighland(stream, { ...RAGGED, store, zarrVersion }));
    t.is(error, unplugged);
    t.true((stream as unknown as { ended: boolean }).ended, 'the highland stream is destroyed');
    const back = await readWithZarrita(store);
    t.deepEqual(back.shape, [6, 1, 23, 37]);
    t.is(firstDifference(back.bytes, bytes.subarray(0, back.bytes.byteLength)), -1);
    const files = (await readdir(store, { recursive: true })).map(String);
    t.false(files.some((file) => file.includes('.partial')), files.join(' '));
  }
});

test('zarrThrough: a failure is one highland error, then the end of the stream', async (t) => {
  const values: unknown[] = [];
  const errors: Error[] = [];
  const frames: unknown[] = [syntheticFrame(0, 16, 8, 1, 'uint16'), syntheticFrame(1, 16, 9, 1, 'uint16')];
  await new Promise<void>((resolve) =>
    highland(frames as FrameInput[])
      .through(zarrThrough({ store: new MemoryStore(), dtype: 'uint16', width: 16, height: 8, chunking: { framesPerChunk: 1 } }))
      .errors((error) => {
        errors.push(error);
      })
      .each((value) => {
        values.push(value);
      })
      .done(resolve),
  );
  t.is(errors.length, 1);
  t.true(errors[0] instanceof FrameMismatchError);
  t.regex(errors[0]!.message, /^frame 1: expected 16x8x1 uint16 \(256 bytes\), got 16x9x1 uint16$/);
  t.true(values.every((value) => Array.isArray((value as SinkProgress).frames)), 'only progress values besides the error');
});

test('bad options: writeHighland rejects with the OptionError before touching the stream; zarrThrough emits it', async (t) => {
  const options: ZarrStreamOptions = { store: new MemoryStore(), dtype: 'uint16', width: 0, height: 8 };
  const stream = highland<FrameInput>([syntheticFrame(0, 16, 8, 1, 'uint16')]);
  await t.throwsAsync(writeHighland(stream, options), { instanceOf: OptionError, message: /^width must be an integer >= 1, got 0$/ });
  t.is((await stream.collect().toPromise(Promise)).length, 1, 'the stream is still whole');
  const through = highland<FrameInput>([]).through(zarrThrough(options));
  await t.throwsAsync(through.last().toPromise(Promise), { instanceOf: OptionError });
});

test('null in a highland stream, or a stream already consumed, fails the write instead of ending early or hanging', async (t) => {
  const options = (): ZarrStreamOptions => ({ store: new MemoryStore(), dtype: 'uint16', width: 16, height: 8 });
  const frame = syntheticFrame(0, 16, 8, 1, 'uint16');
  await t.throwsAsync(writeHighland(highland([frame, null as unknown as FrameInput]), options()), { instanceOf: TypeError, message: /value 1 is null/ });
  const consumed = highland<FrameInput>([frame]);
  consumed.each(() => undefined);
  await t.throwsAsync(writeHighland(consumed, options()), { message: /already ended/ });
  const transformed = highland<FrameInput>([frame]);
  transformed.map((x) => x);
  await t.throwsAsync(writeHighland(transformed, options()), { message: /already been transformed or consumed/ });
});

test('highlandReadable ends with the highland stream and passes its values through in order', async (t) => {
  const values: number[] = [];
  for await (const value of highlandReadable(highland([1, 2, 3]).map((x) => x * 10))) values.push(value as number);
  t.deepEqual(values, [10, 20, 30]);
});


for (const api of ['writeHighland', 'zarrThrough'] as const) {
  test(`${api}: a slow store limits how far the highland source is pulled ahead`, async (t) => {
    const width = 64;
    const height = 64;
    const frameBytes = width * height * 2;
    const store = new SlowStore();
    let pulled = 0;
    let maxAhead = 0;
    // A highland generator source: it makes a frame only when highland asks for one.
    const camera = highland<FrameInput>((push, next) => {
      if (pulled === 150) {
        push(null, highland.nil);
        return;
      }
      maxAhead = Math.max(maxAhead, pulled - store.appendedBytes / frameBytes);
      push(null, syntheticFrame(pulled++, width, height, 1, 'uint16'));
      next();
    });
    const options: ZarrStreamOptions = { store, dtype: 'uint16', width, height, chunking: { tileWidth: 32, tileHeight: 32, framesPerChunk: 50 } };
    const progress = api === 'writeHighland' ? await writeHighland(camera, options) : await camera.through(zarrThrough(options)).last().toPromise(Promise);
    t.is(pulled, 150);
    t.deepEqual(progress.frames, [150]);
    // The same bound as for a Node source (backpressure.test): the adapter adds at most one frame.
    t.true(maxAhead <= 16, `highland source ran ${maxAhead} frames ahead of the store`);
    t.log(`max frames ahead of the store: ${maxAhead.toFixed(1)}`);
  });
}
