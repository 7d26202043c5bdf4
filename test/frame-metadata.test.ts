/** Per-frame metadata: gathered in frame order into the image's frame_metadata array, never ahead of the pixels. */
import test from 'ava';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FrameMetadataLog } from '../src/metadata/frame-metadata.js';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import { FileSystemStore } from '../src/stores/fs-store.js';
import type { Frame } from '../src/messages.js';
import { makeFrames, source, tempDir } from './helpers/frames.js';
import { FaultyStore } from './helpers/faults.js';
import { python, readWithZarrita, requirePythonZarr, zarritaMemory } from './helpers/readers.js';

const OPTIONS = { dtype: 'uint16', width: 16, height: 8, chunking: { framesPerChunk: 2 } } as const;
const decoder = new TextDecoder();
/** The lines of a frame_metadata array's bytes, parsed. */
const linesOf = (bytes: Uint8Array): unknown[] => decoder.decode(bytes).split('\n').slice(0, -1).map((line) => JSON.parse(line));

test('FrameMetadataLog: lines in frame order, null for frames without, chunks spanning lines; a plan applies only once committed', (t) => {
  const log = new FrameMetadataLog(8);
  t.false(log.active);
  t.is(log.plan(3), undefined, 'no metadata yet: no array');
  log.add(1, { a: 1 });
  log.add(3, { long: 'abcdefghij' });
  const first = log.plan(2)!;
  // "null\n{"a":1}\n" = 13 bytes: chunk 0 whole, chunk 1 partial (zero padded).
  t.is(first.totalBytes, 13);
  t.deepEqual(first.chunks.map((chunk) => chunk.index), [0, 1]);
  t.is(decoder.decode(first.chunks[1]!.bytes), '":1}\n\0\0\0');
  t.deepEqual(log.plan(2), first, 'planning again (a failed write) plans the same');
  log.commit(first);
  t.is(log.published, 2);
  const second = log.plan(4)!;
  t.deepEqual(second.chunks.map((chunk) => chunk.index), [1, 2, 3, 4]);
  t.is(second.totalBytes, 40);
  const bytes = new Uint8Array(5 * 8);
  for (const plan of [first, second]) for (const chunk of plan.chunks) bytes.set(chunk.bytes, chunk.index * 8);
  t.deepEqual(linesOf(bytes.subarray(0, second.totalBytes)), [null, { a: 1 }, null, { long: 'abcdefghij' }]);
  log.commit(second);
  t.is(log.plan(4), undefined);
  t.throws(() => log.add(2, {}), { message: /frame 2: its metadata came after frames up to 3 were published/ });
});

test('FrameMetadataLog: serializes at add, so the source may reuse its object', (t) => {
  const log = new FrameMetadataLog();
  const metadata = { ts: 1 };
  log.add(0, metadata);
  metadata.ts = 2;
  log.add(1, metadata);
  const plan = log.plan(2)!;
  t.deepEqual(linesOf(plan.chunks[0]!.bytes.subarray(0, plan.totalBytes)), [{ ts: 1 }, { ts: 2 }]);
});

function framesWithMetadata(count: number): Frame[] {
  return makeFrames(count, 16, 8, 1, 'uint16').frames.map((frame, t) => (t === 2 ? frame : { ...frame, metadata: { t, timestampUs: 1000 * t, stage: { z: t / 2 } } }));
}
const expectedLines = (count: number): unknown[] => Array.from({ length: count }, (_, t) => (t === 2 ? null : { t, timestampUs: 1000 * t, stage: { z: t / 2 } }));

for (const zarrVersion of [2, 3] as const) {
  test(`v${zarrVersion}: frame metadata reads back, one line per frame, with zarrita${zarrVersion === 2 ? ' and zarr-python' : ''}`, async (t) => {
    const dir = await tempDir();
    try {
      const store = path.join(dir, 'meta.zarr');
      await pipeline(source(framesWithMetadata(5)), ...zarrTransforms({ ...OPTIONS, store, zarrVersion, multiscale: true }));
      const back = await readWithZarrita(store, 'frame_metadata');
      t.deepEqual(linesOf(back.bytes), expectedLines(5));
      t.is((await readWithZarrita(store, '0')).shape[0], 5);
      if (zarrVersion === 2 && (await requirePythonZarr(t.log))) {
        const out = await python('import sys, zarr; a = zarr.open_array(sys.argv[1], path="frame_metadata", mode="r"); print(a.attrs["zarr_stream"]["frame_metadata"]["frames"]); sys.stdout.write(a[:].tobytes().decode())', store);
        const [frames, ...lines] = out.split('\n').slice(0, -1);
        t.is(frames, '5');
        t.deepEqual(lines.map((line) => JSON.parse(line)), expectedLines(5));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('frames without metadata write no frame_metadata array', async (t) => {
  const store = new MemoryStore();
  await pipeline(source(makeFrames(3, 16, 8, 1, 'uint16').frames), ...zarrTransforms({ ...OPTIONS, store }));
  t.deepEqual([...store.map.keys()].filter((key) => key.startsWith('frame_metadata')), []);
});

test('metadata that is not a JSON object fails the frame, naming it and the path', async (t) => {
  const frames: unknown[] = framesWithMetadata(3);
  (frames[1] as Frame).metadata = { exposure: { ms: Number.NaN } };
  await t.throwsAsync(pipeline(source(frames), ...zarrTransforms({ ...OPTIONS, store: new MemoryStore() })), { message: 'frame 1: metadata.exposure.ms must be JSON (a finite number), got NaN' });
  frames[1] = { ...(frames[0] as Frame), metadata: 'text' };
  await t.throwsAsync(pipeline(source(frames), ...zarrTransforms({ ...OPTIONS, store: new MemoryStore() })), { message: 'frame 1: metadata must be a JSON object, got "text"' });
});

test('a failed write claims metadata only for the frames the arrays show', async (t) => {
  const dir = await tempDir();
  try {
    const root = path.join(dir, 'failed.zarr');
    // Chunk row 2 (frames 4 and 5) never lands: frames 0-3 are stored, and 6 frames' metadata arrived.
    const store = new FaultyStore(new FileSystemStore(root), (op) => op.key.startsWith('0/c/2/'));
    await t.throwsAsync(pipeline(source(framesWithMetadata(7)), ...zarrTransforms({ ...OPTIONS, store })), { message: /injected/ });
    const frames = (await readWithZarrita(root, '0')).shape[0]!;
    t.is(frames, 4);
    t.deepEqual(linesOf((await readWithZarrita(root, 'frame_metadata')).bytes), expectedLines(frames));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Notes, at each write of frame_metadata's metadata, the frames it shows and those the level-0 array shows. */
class WatchedStore extends MemoryStore {
  readonly updates: Array<{ lines: number; frames: number }> = [];
  override async set(key: string, value: Uint8Array): Promise<void> {
    await super.set(key, value);
    if (key !== 'frame_metadata/zarr.json') return;
    const lines = JSON.parse(decoder.decode(value)).attributes.zarr_stream.frame_metadata.frames;
    this.updates.push({ lines, frames: JSON.parse(decoder.decode(this.map.get('0/zarr.json'))).shape[0] });
  }
}

test('an acquisition-length log: 3000 frames, updated as rows complete, never ahead of the array, read back whole', async (t) => {
  const store = new WatchedStore();
  const frame = makeFrames(1, 16, 8, 1, 'uint16').frames[0]!;
  const count = 3000;
  const note = 'x'.repeat(40);
  const frames = Array.from({ length: count }, (_, t) => ({ ...frame, metadata: { t, note } }));
  await pipeline(Readable.from(frames), ...zarrTransforms({ ...OPTIONS, store, chunking: { framesPerChunk: 16 } }));
  const back = await readWithZarrita(zarritaMemory(store), 'frame_metadata');
  t.true(back.shape[0]! > 2 * back.chunks[0]!, `${back.shape[0]} bytes in chunks of ${back.chunks[0]}`);
  t.deepEqual(linesOf(back.bytes), Array.from({ length: count }, (_, t) => ({ t, note })));
  t.true(store.updates.length > 1 && store.updates[0]!.lines < count, 'updated during the write, not only at the end');
  t.deepEqual(store.updates.filter((update) => update.lines > update.frames), []);
  t.is(store.updates.at(-1)!.lines, count);
});
