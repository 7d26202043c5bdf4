/**
 * Frame ownership: a source that reuses its buffers (a camera SDK's ring of 2-8 frames, refilled right after each
 * hand-over) must store exactly the frames it produced. By default the chain copies frames as they enter.
 */
import test from 'ava';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { zarrTransforms, type ZarrChain } from '../src/zarr-transforms.js';
import { frameCopiesBound } from '../src/resources/estimate.js';
import { OptionError, type ZarrStreamOptions } from '../src/options.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import { bufferingWriter } from '../src/stores/store.js';
import type { Bytes } from '../src/messages.js';
import { Downsampler } from '../src/transforms/downsampler.js';
import { TileSplitter } from '../src/transforms/tile-splitter.js';
import { ChunkAccumulator } from '../src/transforms/chunk-accumulator.js';
import { BloscCompressor } from '../src/transforms/blosc-compressor.js';
import { ZarrSink } from '../src/sinks/zarr-sink.js';
import { pyramidShapes } from '../src/downsample/levels.js';
import { resolveLayout } from '../src/chunking/layout.js';
import { firstDifference, frameBytes, makeFrames, ringSource, source, tempDir, writeRing, type FrameSet } from './helpers/frames.js';
import { readWithZarrita, zarritaMemory } from './helpers/readers.js';
import { SlowStore } from './helpers/slow-store.js';
import { refPyramidBytes } from './helpers/reference-pyramid.js';

const FRAMES = 12;
const SHAPE = { width: 64, height: 48, planes: 1, dtype: 'uint16' } as const;
const CHUNKING = { tileWidth: 32, tileHeight: 16, framesPerChunk: 4 };

const CONFIGS: Array<{ label: string; options: Partial<ZarrStreamOptions> }> = [
  { label: 'raw v2', options: { zarrVersion: 2, compression: 'none' } },
  { label: 'lz4 v3', options: { zarrVersion: 3, compression: { codec: 'lz4' }, workers: 1 } },
  { label: 'multiscale lz4 v3', options: { zarrVersion: 3, compression: { codec: 'lz4' }, workers: 1, multiscale: true } },
];

for (const config of CONFIGS) {
  for (const style of ['push', 'write-callback'] as const) {
    // A Readable source (highWaterMark 1) may hold one frame and the first stage queue another before the copy: its
    // ring needs highWaterMark + 2 buffers. A source that waits for each write callback may reuse a buffer at once.
    for (const buffers of style === 'push' ? [3, 4, 8] : [2, 4, 8]) {
      test(`${config.label}: a ring of ${buffers} reused buffers (${style}) stores every frame exactly`, async (t) => {
        const dir = await tempDir();
        try {
          const store = path.join(dir, 'ring.zarr');
          const set = makeFrames(FRAMES, SHAPE.width, SHAPE.height, SHAPE.planes, SHAPE.dtype);
          const chain: ZarrChain = zarrTransforms({ store, ...SHAPE, chunking: CHUNKING, ...config.options } as ZarrStreamOptions);
          if (style === 'push') await pipeline(ringSource(set.frames, buffers), ...chain);
          else await Promise.all([pipeline(chain), writeRing(chain[0], set.frames, buffers)]);
          const levels = chain[0].shapes!.length;
          const reference = refPyramidBytes(set.frames.map(frameBytes), SHAPE, levels, SHAPE.dtype, 'mean');
          t.is(reference[0]!.bytes.byteLength, set.bytes.byteLength);
          for (let level = 0; level < levels; level++) {
            const back = await readWithZarrita(store, String(level));
            t.is(back.shape[0], reference[level]!.frames, `level ${level} frames`);
            const at = firstDifference(back.bytes, reference[level]!.bytes);
            const frameSize = reference[level]!.bytes.byteLength / reference[level]!.frames;
            t.is(at, -1, `level ${level}: first wrong byte in frame ${Math.floor(at / frameSize)}`);
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  }
}

/** Streams `count` ring-buffer frames (2 buffers, refilled after each write callback) through `chain`. */
async function streamRing(chain: ZarrChain | Array<Writable & { write: Writable['write'] }>, set: FrameSet, onWrite?: () => void): Promise<void> {
  const head = chain[0]!;
  const written = writeRing(head, set.frames, 2, onWrite);
  await Promise.all([pipeline(chain as unknown as [Writable]), written]);
}

test('a slow store holds a ring-buffer source back: frame copies stay within their bound, every frame exact', async (t) => {
  // One tile per frame and raw chunks: the sink's writes in flight each read a different frame, the most held.
  const shape = { width: 32, height: 16, planes: 1, dtype: 'uint16' } as const;
  const store = new SlowStore();
  const set = makeFrames(40, shape.width, shape.height, 1, shape.dtype);
  const chain = zarrTransforms({ store, ...shape, chunking: { framesPerChunk: 8 } });
  const bound = frameCopiesBound(1, 8);
  let held = 0;
  await streamRing(chain, set, () => (held = Math.max(held, chain[0].framesHeld)));
  t.true(held <= bound, `${held} frame copies alive at once; bound ${bound}`);
  t.true(held >= 2, `the store was slow, yet only ${held} copies were ever held`);
  t.log(`most frame copies alive at once: ${held} (bound ${bound})`);
  t.is(firstDifference((await readWithZarrita(zarritaMemory(store))).bytes, set.bytes), -1);
});

for (const mode of ['parts', 'regions', 'whole'] as const) {
  test(`one frame buffer is enough (${mode}): each copy is released without waiting for another frame`, async (t) => {
    // 64 frames of 32x32 per chunk: chunks cut into whole Blosc blocks, so 'regions' compresses them as they fill.
    const shape = { width: 64, height: 64, planes: 1 };
    const chunking = { tileWidth: 32, tileHeight: 32, framesPerChunk: mode === 'regions' ? 64 : 3 };
    const layouts = pyramidShapes(shape, 32, 32).map((s, level) => resolveLayout(s, 'uint16', chunking, level).layout);
    const compressor = new BloscCompressor(mode === 'parts' ? {} : { settings: layouts.map(() => ({ cname: 'lz4', clevel: 1, shuffle: 'byte', blocksize: 0, typesize: 2 }) as const), layouts, workers: 1, streamBlocks: mode === 'regions' });
    if (mode === 'regions') t.truthy(compressor.blockPlans[0], 'level 0 chunks are compressed as they fill');
    const modes = layouts.map((layout) => (mode === 'regions' && !compressor.blockPlans[layout.level] ? 'whole' : mode));
    const store = new SlowStore();
    const set = makeFrames(7, shape.width, shape.height, 1, 'uint16');
    const chain = [
      new Downsampler({ levels: layouts.map((layout) => layout.frame), dtype: 'uint16', frameOwnership: 'copy', frameBuffers: 1 }),
      new TileSplitter({ layouts }),
      new ChunkAccumulator({ layouts, mode: modes }),
      compressor,
      new ZarrSink({ store, zarrVersion: 3, layouts, codecs: compressor.codecs }),
    ];
    await streamRing(chain, set);
    const reference = refPyramidBytes(set.frames.map(frameBytes), { ...shape }, layouts.length, 'uint16', 'mean');
    for (let level = 0; level < layouts.length; level++) {
      t.is(firstDifference((await readWithZarrita(zarritaMemory(store), String(level))).bytes, reference[level]!.bytes), -1, `level ${level}`);
    }
  });
}

test("frameOwnership 'transfer' writes straight from the source's buffers; 'copy' never hands them to the store", async (t) => {
  const shape = { width: 32, height: 16, planes: 1, dtype: 'uint16' } as const;
  for (const frameOwnership of ['copy', 'transfer'] as const) {
    const set = makeFrames(4, shape.width, shape.height, 1, shape.dtype);
    const sources = new Set(set.frames.map((f) => f.data.buffer));
    let fromSource = 0;
    class WatchingStore extends MemoryStore {
      createWriter(key: string) {
        const inner = bufferingWriter(this, key);
        return { ...inner, append: async (data: Bytes) => {
          for (const piece of data instanceof Uint8Array ? [data] : data) if (sources.has(piece.buffer)) fromSource++;
          return inner.append(data);
        } };
      }
    }
    const store = new WatchingStore();
    await pipeline(source(set.frames), ...zarrTransforms({ store, ...shape, frameOwnership }));
    t.is(fromSource > 0, frameOwnership === 'transfer', frameOwnership);
    t.is(firstDifference((await readWithZarrita(zarritaMemory(store))).bytes, set.bytes), -1, frameOwnership);
  }
});

test('frameOwnership must be copy or transfer', (t) => {
  const error = t.throws(() => zarrTransforms({ store: new MemoryStore(), dtype: 'uint8', width: 4, height: 4, frameOwnership: 'move' as never }), { instanceOf: OptionError });
  t.is(error?.field, 'frameOwnership');
  t.regex(error!.message, /frameOwnership must be one of copy, transfer, got "move"/);
});
