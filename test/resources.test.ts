/**
 * Resources bounded and stated before anything is written: options that would exhaust memory, open files or
 * threads are refused with the numbers, at once (nothing enumerates tiles or allocates frames first).
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { estimateMemory, OptionError, type ZarrStreamOptions } from '../src/options.js';
import { parseOpenFileLimit, maxChunksPerFrame } from '../src/resources/limits.js';
import { estimateResources, FRAMES_HELD } from '../src/resources/estimate.js';
import { resolveLayout } from '../src/chunking/layout.js';
import { tempDir } from './helpers/frames.js';

/** The CLI's defaults: 2048 x 2048 uint16 frames in 512 x 512 tiles. */
const BASE = { dtype: 'uint16', width: 2048, height: 2048, chunking: { tileWidth: 512, tileHeight: 512, tilePlanes: 1 } } as const;

/** Cases of issue 10: each must be an OptionError naming `field`, with the numbers, and leave no store behind. */
const REFUSED: Array<[string, Partial<ZarrStreamOptions>, string, RegExp]> = [
  ['1e9 x 1e9 frames', { width: 1e9, height: 1e9 }, 'width', /a frame of 1000000000 x 1000000000 x 1 uint16 pixels is .* more than the 4.00 GiB a buffer can hold/],
  ['1e5 x 1e5 frames', { width: 100_000, height: 100_000 }, 'width', /is 18.6 GiB, more than the 4.00 GiB a buffer can hold/],
  ['a million planes', { planes: 1_000_000 }, 'planes', /x 1000000 uint16 pixels is 7.63 TiB/],
  ['1000 workers', { workers: 1000, compression: { codec: 'lz4' } }, 'workers', new RegExp(`workers must be at most ${4 * availableParallelism()} \\(4 per core; this machine has ${availableParallelism()}\\), got 1000`)],
  ['1x1 tiles of 64 x 64, raw', { width: 64, height: 64, chunking: { tileWidth: 1, tileHeight: 1 } }, 'chunking', /chunking makes 4096 chunks per frame \(level 0: 1 x 64 x 64\), more than the \d+ allowed/],
  ['1x1 tiles of 64 x 64, lz4', { width: 64, height: 64, chunking: { tileWidth: 1, tileHeight: 1 }, compression: { codec: 'lz4' } }, 'chunking', /4096 chunks per frame/],
  ['1x1 tiles of 256 x 256', { width: 256, height: 256, chunking: { tileWidth: 1, tileHeight: 1 } }, 'chunking', /65536 chunks per frame/],
  ['1x1 tiles of 65536 x 65536, multiscale', { width: 65536, height: 65536, chunking: { tileWidth: 1, tileHeight: 1 }, multiscale: true }, 'width', /is 8.00 GiB, more than/],
  ['1x1 tiles of 32768^2 uint8, multiscale', { dtype: 'uint8', width: 32768, height: 32768, chunking: { tileWidth: 1, tileHeight: 1 }, multiscale: true }, 'chunking', /chunks per frame \(level 0: 1 x 32768 x 32768, 16 levels\)/],
  ['more than maxMemory', { maxMemory: 2 ** 20 }, 'maxMemory', /need an estimated \d+(\.\d+)? MiB of memory \(frames \d+(\.\d+)? MiB.*\), more than maxMemory 1.00 MiB/],
];

for (const [name, patch, field, message] of REFUSED) {
  test(`refused before anything exists: ${name}`, async (t) => {
    const dir = await tempDir();
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const store = path.join(dir, 'out.zarr');
    const options = { ...BASE, store, ...patch } as ZarrStreamOptions;
    const error = t.throws(() => zarrTransforms(options), { instanceOf: OptionError });
    t.is(error!.field, field, error!.message);
    t.regex(error!.message, message);
    t.false(existsSync(store));
  });
}

test('estimateMemory states the terms without allocating, and is what maxMemory is checked against', (t) => {
  const options = { ...BASE, store: 'unused', compression: { codec: 'lz4' }, workers: 2 } as ZarrStreamOptions;
  const estimate = estimateMemory(options);
  t.is(estimate.bytes, estimate.terms.reduce((sum, term) => sum + term.bytes, 0));
  t.deepEqual(estimate.terms.map((term) => term.name), ['frames', 'pyramid', 'tiles', 'chunks', 'segments', 'shards', 'compressed', 'workers', 'runtime', 'bookkeeping']);
  t.is(estimate.terms[0]!.bytes, FRAMES_HELD * 2048 * 2048 * 2);
  t.is(estimate.chunksPerFrame, 16);
  t.true(estimate.openFiles >= 16);
  // Just enough passes; a byte less is refused. estimateMemory itself never refuses for memory.
  t.notThrows(() => zarrTransforms({ ...options, store: { set: async () => undefined, get: async () => undefined }, maxMemory: estimate.bytes }).forEach((s) => s.destroy()));
  t.throws(() => zarrTransforms({ ...options, maxMemory: estimate.bytes - 1 }), { instanceOf: OptionError, message: /more than maxMemory/ });
  t.true(estimateMemory({ ...options, maxMemory: 1 }).bytes > 1);
  t.throws(() => estimateMemory({ ...options, maxMemory: -1 }), { instanceOf: OptionError, message: /maxMemory must be a positive number of bytes, got -1/ });
});

test('estimateResources: whole chunks hold a chunk row plus a spare per worker; raw tiles without edges need no copies', (t) => {
  const { layout } = resolveLayout({ width: 100, height: 64, planes: 1 }, 'uint16', { tileWidth: 32, tileHeight: 32, framesPerChunk: 4 });
  const whole = estimateResources({ layouts: [layout], modes: ['whole'], plans: [undefined], workers: 3, engine: 'native', downsampleThread: false });
  t.is(whole.terms.find((term) => term.name === 'chunks')!.bytes, (layout.tilesPerFrame + 3) * layout.chunkBytes);
  const edges = estimateResources({ layouts: [layout], modes: ['parts'], plans: [undefined], workers: 0, engine: undefined, downsampleThread: false });
  t.is(edges.terms.find((term) => term.name === 'tiles')!.bytes, 2 * layout.tilesPerFrame * layout.tileBytes);
  t.is(edges.openFiles, layout.tilesPerFrame + 8 + 1 + 1);
  const exact = resolveLayout({ width: 64, height: 64, planes: 1 }, 'uint16', { tileWidth: 32, tileHeight: 32 }).layout;
  const none = estimateResources({ layouts: [exact], modes: ['parts'], plans: [undefined], workers: 0, engine: undefined, downsampleThread: false });
  t.is(none.terms.find((term) => term.name === 'tiles')!.bytes, 0);
});

test('the open-file limit is read from /proc/self/limits; chunk files per frame stay under half of it', (t) => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n';
  t.is(parseOpenFileLimit(text), 20000);
  t.is(parseOpenFileLimit('Max open files            unlimited            unlimited            files'), Infinity);
  t.is(parseOpenFileLimit('nothing here'), undefined);
  t.is(maxChunksPerFrame({ totalMemory: 2 ** 34, cores: 2, openFiles: 256 }), 128);
  t.is(maxChunksPerFrame({ totalMemory: 2 ** 34, cores: 2, openFiles: 1_048_576 }), 1024);
});

test('an s3:// store adds its part buffers to the estimate: two per open chunk and the uploads in flight', (t) => {
  const options = { dtype: 'uint16' as const, width: 2048, height: 2048, chunking: { tileWidth: 512, tileHeight: 512 } };
  const disk = estimateMemory({ ...options, store: '/tmp/x.zarr' });
  const s3 = estimateMemory({ ...options, store: 's3://bucket/run', s3: { endpoint: 'http://127.0.0.1:9000', maxConcurrentUploads: 4 } });
  t.is(disk.terms.find((term) => term.name === 's3 parts'), undefined);
  t.is(s3.terms.find((term) => term.name === 's3 parts')?.bytes, (2 * 16 + 4) * 5 * 2 ** 20);
  t.is(s3.bytes - disk.bytes, (2 * 16 + 4) * 5 * 2 ** 20);
});
