/** The stages compose by hand, as a user building their own chain would: each is usable on its own. */
import test from 'ava';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { resolveLayout } from '../src/chunking/layout.js';
import { pyramidShapes } from '../src/downsample/levels.js';
import { Downsampler } from '../src/transforms/downsampler.js';
import { TileSplitter } from '../src/transforms/tile-splitter.js';
import { ChunkAccumulator } from '../src/transforms/chunk-accumulator.js';
import { BloscCompressor } from '../src/transforms/blosc-compressor.js';
import { ZarrSink } from '../src/sinks/zarr-sink.js';
import { FileSystemStore } from '../src/stores/fs-store.js';
import { firstDifference, makeFrames, source, tempDir } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';

test('Downsampler, TileSplitter, ChunkAccumulator, BloscCompressor and ZarrSink, built one by one', async (t) => {
  const frame = { width: 48, height: 40, planes: 1 };
  const chunking = { tileWidth: 16, tileHeight: 16, framesPerChunk: 2 };
  const layouts = pyramidShapes(frame, 16, 16).map((shape, level) => resolveLayout(shape, 'uint16', chunking, level).layout);
  const compressor = new BloscCompressor({ codec: 'zstd', clevel: 2, dtype: 'uint16', workers: 1 });
  const dir = await tempDir();
  const { frames, bytes } = makeFrames(5, frame.width, frame.height, 1, 'uint16');
  await pipeline(
    source(frames),
    new Downsampler({ levels: layouts.map((layout) => layout.frame), dtype: 'uint16' }),
    new TileSplitter({ layouts }),
    new ChunkAccumulator({ layouts, mode: 'whole' }),
    compressor,
    new ZarrSink({ store: new FileSystemStore(path.join(dir, 'hand.zarr')), zarrVersion: 3, layouts, codecs: compressor.codecs }),
  );
  t.is(layouts.length, 3);
  t.is(firstDifference((await readWithZarrita(path.join(dir, 'hand.zarr'))).bytes, bytes), -1);
  t.deepEqual((await readWithZarrita(path.join(dir, 'hand.zarr'), '2')).shape, [2, 1, 10, 12]);
});

test('BloscCompressor without a codec passes every message through untouched', async (t) => {
  const passthrough = new BloscCompressor();
  t.is(passthrough.engineName, undefined);
  const message = { kind: 'chunk', level: 0, coords: [0, 0, 0, 0], frames: 1, data: new Uint8Array(4), encoded: false };
  passthrough.write(message);
  t.is(passthrough.read(), message);
  t.throws(() => new BloscCompressor({ codec: 'lz4', dtype: 'uint12' as never }), { message: /BloscCompressor dtype must be one of .*got "uint12"/ });
});
