/**
 * Zarr v3 sharding (`shardChunks`): shard arithmetic and the index encoding (against the spec's CRC-32C vectors),
 * the metadata, then whole writes read back pixel for pixel by zarrita.js, with every shard's index parsed and its
 * checksum verified by this file's own code, every chunk's offset and length checked and every Blosc chunk decoded by
 * numcodecs (zarrita verifies neither). The metadata never counts frames of a shard row that is not complete.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import Blosc from 'numcodecs/blosc';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { OptionError, estimateMemory, type ZarrStreamOptions } from '../src/options.js';
import { resolveLayout } from '../src/chunking/layout.js';
import { clipShardChunks, rowGeometry, shardOf, shardShape, shardChunksPerChunkRow, shardsPerRow, slotInShard } from '../src/chunking/shards.js';
import { crc32cOf, encodeShardIndex } from '../src/codecs/shard-index.js';
import { v3ArrayMetadata } from '../src/metadata/zarr.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import { FileSystemStore } from '../src/stores/fs-store.js';
import { FaultyFs } from './helpers/faults.js';
import { nativeEngineAvailable } from '../src/codecs/engine.js';
import { summarizeStore } from '../src/cli/info.js';
import { firstDifference, makeFrames, source, tempDir } from './helpers/frames.js';
import { filesOf, isMetadata, temporariesIn } from './helpers/store-check.js';
import { readWithZarrita } from './helpers/readers.js';
import { refPyramidBytes } from './helpers/reference-pyramid.js';

const blosc = Blosc.fromConfig({ id: 'blosc' });
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** CRC-32C written out here (reflected, polynomial 0x82F63B78), independent of the library the writer uses. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});
function ownCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

test('crc32c: the spec test vectors (32 zero bytes, "123456789"), and the same as an independent table', (t) => {
  t.is(crc32cOf(new Uint8Array(32)), 0x8a9136aa);
  t.is(crc32cOf(new TextEncoder().encode('123456789')), 0xe3069283);
  t.is(ownCrc32c(new Uint8Array(32)), 0x8a9136aa);
  const random = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
  t.is(crc32cOf(random), ownCrc32c(random));
});

test('shard arithmetic: shard of a chunk, its slot in C order, clipping, ragged edges, rows', (t) => {
  // 37 x 23 frames, 8 x 6 tiles: a chunk grid of 1 x 4 x 5 (ragged in y and x), 2 frames per chunk.
  const { layout } = resolveLayout({ width: 37, height: 23, planes: 1 }, 'uint16', { tileWidth: 8, tileHeight: 6, framesPerChunk: 2 });
  t.deepEqual(layout.grid, { planes: 1, height: 4, width: 5 });
  const shard = clipShardChunks(layout, [2, 3, 3, 2]);
  t.deepEqual(shard, [2, 1, 3, 2], 'clipped to the grid along c, not along t');
  t.deepEqual(clipShardChunks(layout, [1, 1, 8, 8]), [1, 1, 4, 5], 'a level smaller than a shard gets a shard clipped to it');
  t.deepEqual(shardShape(layout, shard), [4, 1, 18, 16]);
  t.deepEqual(shardOf(shard, [3, 0, 3, 4]), [1, 0, 1, 2]);
  t.is(slotInShard(shard, [0, 0, 0, 0]), 0);
  t.is(slotInShard(shard, [0, 0, 0, 1]), 1);
  t.is(slotInShard(shard, [0, 0, 1, 0]), 2);
  t.is(slotInShard(shard, [1, 0, 0, 0]), 6, 'the next chunk along t comes after a whole (c, y, x) layer');
  t.is(slotInShard(shard, [3, 0, 5, 3]), 6 + 2 * 2 + 1);
  t.is(shardChunksPerChunkRow(layout, shard, [0, 0, 0, 0]), 6);
  t.is(shardChunksPerChunkRow(layout, shard, [0, 0, 1, 2]), 1, 'the corner shard: 1 row of y left, 1 column of x');
  t.is(shardsPerRow(layout, shard), 2 * 3);
  t.deepEqual(rowGeometry({ ...layout, shardChunks: shard }), { framesPerRow: 4, valuesPerRow: 6, chunksPerRow: 40 });
  t.deepEqual(rowGeometry(layout), { framesPerRow: 2, valuesPerRow: 20, chunksPerRow: 20 });
});

test('shard index: little-endian (offset, nbytes) pairs, 2^64-1 for absent slots, then its CRC-32C', (t) => {
  const index = encodeShardIndex([0, 10, 0], [10, 5, -1]);
  t.is(index.byteLength, 3 * 16 + 4);
  const view = new DataView(index.buffer);
  t.deepEqual([0, 8, 16, 24].map((at) => view.getBigUint64(at, true)), [0n, 10n, 10n, 5n]);
  t.is(view.getBigUint64(32, true), 2n ** 64n - 1n);
  t.is(view.getBigUint64(40, true), 2n ** 64n - 1n);
  t.is(view.getUint32(48, true), ownCrc32c(index.subarray(0, 48)));
});

test('metadata: the chunk grid is the shard shape; sharding_indexed wraps the array codecs, index bytes + crc32c at the end', (t) => {
  const { layout } = resolveLayout({ width: 37, height: 23, planes: 1 }, 'uint16', { tileWidth: 8, tileHeight: 6, framesPerChunk: 2 });
  const inner = [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'blosc', configuration: { cname: 'lz4' } }];
  const doc = v3ArrayMetadata({ ...layout, shardChunks: [2, 1, 3, 2] }, 7, { v2Compressor: null, v3Codecs: inner });
  t.deepEqual(doc.chunk_grid, { name: 'regular', configuration: { chunk_shape: [4, 1, 18, 16] } });
  t.deepEqual(doc.codecs, [
    {
      name: 'sharding_indexed',
      configuration: {
        chunk_shape: [2, 1, 6, 8],
        codecs: inner,
        index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'crc32c' }],
        index_location: 'end',
      },
    },
  ]);
});

test('options: shardChunks with zarrVersion 2, or not four integers >= 1, is an OptionError naming shardChunks', (t) => {
  const base: ZarrStreamOptions = { store: new MemoryStore(), dtype: 'uint8', width: 16, height: 16 };
  const v2 = t.throws(() => zarrTransforms({ ...base, zarrVersion: 2, shardChunks: [1, 1, 1, 1] }), { instanceOf: OptionError });
  t.is(v2.field, 'shardChunks');
  t.regex(v2.message, /zarrVersion 2/);
  for (const bad of [[1, 1, 1], [0, 1, 1, 1], [1, 1, 1.5, 1], '1,1,1,1']) {
    const error = t.throws(() => zarrTransforms({ ...base, shardChunks: bad as never }), { instanceOf: OptionError });
    t.is(error.field, 'shardChunks');
  }
  // Raw chunks arrive in parts and are held until complete: a chunk row of a 64 x 64 frame in 16 x 16 tiles is counted.
  const plain = estimateMemory({ ...base, width: 64, height: 64, chunking: { tileWidth: 16, tileHeight: 16, framesPerChunk: 1 } });
  const sharded = estimateMemory({ ...base, width: 64, height: 64, chunking: { tileWidth: 16, tileHeight: 16, framesPerChunk: 1 }, shardChunks: [4, 1, 2, 2] });
  const term = sharded.terms.find((term) => term.name === 'shards')!;
  t.true(term.bytes >= 16 * 256, `shards term ${term.bytes}`);
  t.is(sharded.bytes - plain.bytes, term.bytes);
});

interface ShardCheck {
  shards: number;
  present: number;
  absent: number;
}

/**
 * Parses every shard of array `level` with this file's own code: the index at the end (crc32c verified), every
 * present chunk inside the shard before the index, chunks not overlapping, each decoding (Blosc via numcodecs) to
 * a whole chunk's bytes. Returns the counts.
 */
async function checkShards(t: import('ava').ExecutionContext, root: string, level: string): Promise<ShardCheck> {
  const files = await filesOf(root);
  const meta = JSON.parse(new TextDecoder().decode(files.get(`${level}/zarr.json`)!));
  const sharding = meta.codecs[0];
  t.is(sharding.name, 'sharding_indexed');
  const inner: number[] = sharding.configuration.chunk_shape;
  const outer: number[] = meta.chunk_grid.configuration.chunk_shape;
  const perShard = outer.map((size, axis) => size / inner[axis]!);
  const slots = perShard.reduce((a, b) => a * b, 1);
  const compressed = sharding.configuration.codecs.some((codec: { name: string }) => codec.name === 'blosc');
  const chunkBytes = inner.reduce((a, b) => a * b, 1) * (meta.data_type === 'uint8' ? 1 : 2);
  const result: ShardCheck = { shards: 0, present: 0, absent: 0 };
  for (const [key, bytes] of files) {
    if (!key.startsWith(`${level}/c/`) || isMetadata(key)) continue;
    result.shards++;
    const indexStart = bytes.byteLength - (16 * slots + 4);
    t.true(indexStart >= 0, `${key}: shorter than its index`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    t.is(view.getUint32(indexStart + 16 * slots, true), ownCrc32c(bytes.subarray(indexStart, indexStart + 16 * slots)), `${key}: index crc32c`);
    const spans: Array<[number, number]> = [];
    for (let slot = 0; slot < slots; slot++) {
      const offset = view.getBigUint64(indexStart + 16 * slot, true);
      const nbytes = view.getBigUint64(indexStart + 16 * slot + 8, true);
      if (offset === 2n ** 64n - 1n) {
        t.is(nbytes, 2n ** 64n - 1n, `${key} slot ${slot}: absent needs both fields 2^64-1`);
        result.absent++;
        continue;
      }
      const start = Number(offset);
      const end = start + Number(nbytes);
      t.true(end <= indexStart && nbytes > 0n, `${key} slot ${slot}: [${start}, ${end}) must lie before the index at ${indexStart}`);
      spans.push([start, end]);
      const chunk = bytes.subarray(start, end);
      const decoded = compressed ? new Uint8Array(await blosc.decode(chunk)) : chunk;
      t.is(decoded.byteLength, chunkBytes, `${key} slot ${slot}: decodes to a whole chunk`);
      result.present++;
    }
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) t.true(spans[i]![0] >= spans[i - 1]![1], `${key}: chunks overlap`);
  }
  return result;
}

const RAGGED = { width: 37, height: 23, chunking: { tileWidth: 8, tileHeight: 6, framesPerChunk: 2 } };

for (const compression of ['none', 'lz4', 'lz4 whole'] as const) {
  test(`write ${compression}: ragged edges and a partial last shard along t read back exactly, every shard index verified`, async (t) => {
    const dir = await tempDir();
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const store = path.join(dir, 'sharded.zarr');
    // 7 frames, 2 per chunk, 2 chunk rows per shard: shard rows 0 (frames 0-3) and 1 (frames 4-6, its second chunk
    // row short); y and x shards ragged (grid 4 x 5 in shards of 3 x 2 chunks).
    const { frames, bytes } = makeFrames(7, RAGGED.width, RAGGED.height, 1, 'uint16');
    const codec = compression === 'none' ? ('none' as const) : { codec: 'lz4' as const, streamBlocks: compression === 'lz4' };
    await pipeline(source(frames), ...zarrTransforms({ store, dtype: 'uint16', ...RAGGED, compression: codec, workers: 2, shardChunks: [2, 1, 3, 2] }));
    const back = await readWithZarrita(store);
    t.deepEqual(back.shape, [7, 1, 23, 37]);
    t.is(firstDifference(back.bytes, bytes), -1);
    const check = await checkShards(t, store, '0');
    t.is(check.shards, 2 * 2 * 3);
    // 20 chunks per chunk row, 4 chunk rows: every one present; the absent slots are those beyond the edges.
    t.is(check.present, 4 * 20);
    t.is(check.absent, check.shards * 12 - 4 * 20);
    t.deepEqual(temporariesIn(await filesOf(store)), []);
  });
}

(nativeEngineAvailable() ? test : test.skip)('streamed lz4 (chunks compressed as frames arrive, headers patched last) packed into shards reads back exactly', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = path.join(dir, 'streamed.zarr');
  // The streamed-compression test's layout (64 KiB Blosc blocks in 4-frame segments): 2 x 3 tiles, 8 frames per
  // chunk, 37 frames: 5 chunk rows in shards of 2, the last shard row half absent; x ragged (3 tiles in shards of 2).
  const { frames, bytes } = makeFrames(37, 300, 200, 1, 'uint16');
  const chain = zarrTransforms({ store, dtype: 'uint16', width: 300, height: 200, chunking: { tileWidth: 128, tileHeight: 128, framesPerChunk: 8 }, compression: { codec: 'lz4' }, engine: 'native', workers: 2, shardChunks: [2, 1, 2, 2] });
  t.truthy(chain[3].blockPlans[0], 'chunks are streamed');
  await pipeline(source(frames), ...chain);
  const back = await readWithZarrita(store);
  t.is(firstDifference(back.bytes, bytes), -1);
  t.deepEqual(await checkShards(t, store, '0'), { shards: 3 * 2, present: 5 * 6, absent: 3 * 2 * 8 - 5 * 6 });
});

test('a partial last shard along t: its missing chunk rows are absent in its index, zarrita reads the frames there', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = path.join(dir, 'partial.zarr');
  // 5 frames of 2 per chunk, 4 chunk rows per shard: one shard row of 3 chunk rows present, 1 absent.
  const { frames, bytes } = makeFrames(5, 16, 12, 1, 'uint8');
  await pipeline(source(frames), ...zarrTransforms({ store, dtype: 'uint8', width: 16, height: 12, chunking: { tileWidth: 8, tileHeight: 12, framesPerChunk: 2 }, compression: { codec: 'zstd' }, shardChunks: [4, 1, 1, 2] }));
  const back = await readWithZarrita(store);
  t.is(firstDifference(back.bytes, bytes), -1);
  t.deepEqual(await checkShards(t, store, '0'), { shards: 1, present: 6, absent: 2 });
});

test('multiscale: every level sharded (small levels clipped), read back against the reference pyramid', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = path.join(dir, 'pyramid.zarr');
  const shape = { width: 37, height: 23, planes: 1 };
  const { frames } = makeFrames(9, shape.width, shape.height, 1, 'uint16');
  const chain = zarrTransforms({ store, dtype: 'uint16', ...RAGGED, multiscale: true, compression: { codec: 'lz4' }, shardChunks: [2, 1, 2, 2] });
  await pipeline(source(frames), ...chain);
  const levels = chain[0].shapes!.length;
  t.true(levels >= 3);
  const reference = refPyramidBytes(frames.map((f) => new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength)), shape, levels, 'uint16', 'mean');
  for (let level = 0; level < levels; level++) {
    const back = await readWithZarrita(store, String(level));
    t.is(back.shape[0], reference[level]!.frames, `level ${level} frames`);
    t.is(firstDifference(back.bytes, reference[level]!.bytes), -1, `level ${level}`);
    const check = await checkShards(t, store, String(level));
    t.true(check.present > 0, `level ${level} has chunks`);
  }
  const top = JSON.parse(await readFile(path.join(store, String(levels - 1), 'zarr.json'), 'utf8'));
  t.deepEqual(top.chunk_grid.configuration.chunk_shape.slice(1), top.codecs[0].configuration.chunk_shape.slice(1), 'the top level, one chunk per frame, has a shard of one chunk in space');
});

test('metadata claims only frames of complete shard rows while the stream runs', async (t) => {
  const store = new MemoryStore();
  const claims: Array<{ frames: number; shards: string[] }> = [];
  const set = store.set.bind(store);
  store.set = async (key: string, value: Uint8Array) => {
    await set(key, value);
    if (key === '0/zarr.json') claims.push({ frames: JSON.parse(new TextDecoder().decode(value)).shape[0], shards: [...store.map.keys()].filter((k) => k.startsWith('0/c/')) });
  };
  const { frames } = makeFrames(11, 16, 16, 1, 'uint8');
  // 1 frame per chunk, 3 per shard row of 2 shards: rows complete at frames 3, 6, 9; 11 is the end.
  await pipeline(source(frames), ...zarrTransforms({ store, dtype: 'uint8', width: 16, height: 16, chunking: { tileWidth: 8, tileHeight: 16, framesPerChunk: 1 }, shardChunks: [3, 1, 1, 1] }));
  for (const claim of claims) {
    const rows = Math.ceil(claim.frames / 3);
    for (let row = 0; row < rows; row++) for (const x of [0, 1]) t.true(claim.shards.includes(`0/c/${row}/0/0/${x}`), `${claim.frames} frames claimed with shard ${row}/0/0/${x} stored`);
    t.true(claim.frames % 3 === 0 || claim.frames === 11, `claim ${claim.frames}`);
  }
  t.is(claims.at(-1)!.frames, 11);
});

test('a failed shard write: the rejection names the shard, the metadata claims the shard rows before it, nothing torn', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'failing.zarr');
  const fs = new FaultyFs(root, (op) => (op.op === 'rename' && op.key === '0/c/2/0/0/1' ? { fail: 'EIO' } : undefined));
  const { frames, bytes } = makeFrames(11, 16, 16, 1, 'uint8');
  const chain = zarrTransforms({ store: new FileSystemStore(root, { fs }), dtype: 'uint8', width: 16, height: 16, chunking: { tileWidth: 8, tileHeight: 16, framesPerChunk: 1 }, shardChunks: [3, 1, 1, 1] });
  const error = await t.throwsAsync(pipeline(source(frames), ...chain));
  t.regex(error!.message, /0\/c\/2\/0\/0\/1/);
  const files = await filesOf(root);
  t.deepEqual(temporariesIn(files), []);
  const back = await readWithZarrita(root);
  t.is(back.shape[0], 6, 'shard rows 0 and 1 are claimed; row 2 lost a shard');
  t.is(firstDifference(back.bytes, bytes.subarray(0, back.bytes.byteLength)), -1);
  for (const row of [0, 1]) for (const x of [0, 1]) t.true(files.has(`0/c/${row}/0/0/${x}`));
  await checkShards(t, root, '0');
});

test('CLI: write --shard-chunks, then info shows the shards; --shard-chunks with --zarr-version 2 is refused naming the flag', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'cli.zarr');
  const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })));
  const ok = await run(['write', out, '--frames', '6', '--width', '40', '--height', '30', '--tile-width', '16', '--tile-height', '16', '--frames-per-chunk', '2', '--shard-chunks', '2,1,2,2', '--compression', 'lz4', '--quiet', '--json']);
  t.is(ok.code, 0, ok.stderr);
  const written = JSON.parse(ok.stdout);
  t.like(written, { chunkFiles: 3 * 2 * 3, shardFiles: 2 * 1 * 2, shards: [4, 1, 32, 32] });
  const summary = await summarizeStore(out);
  t.deepEqual(summary.arrays[0]!.chunks, [2, 1, 16, 16]);
  t.deepEqual(summary.arrays[0]!.shards, [4, 1, 32, 32]);
  t.regex(summary.arrays[0]!.codecs, /sharded/);
  t.is(summary.arrays[0]!.storedFiles, 2 * 1 * 2, 'shard rows 0 and 1 (2 chunk rows each, the last short), 1 x 2 shards per row');
  const back = await readWithZarrita(out);
  t.deepEqual(back.shape, [6, 1, 30, 40]);
  const v2 = await run(['write', path.join(dir, 'v2.zarr'), '--frames', '2', '--width', '16', '--height', '16', '--zarr-version', '2', '--shard-chunks', '1,1,1,1']);
  t.is(v2.code, 2);
  t.regex(v2.stderr, /--shard-chunks/);
  const bad = await run(['write', path.join(dir, 'bad.zarr'), '--shard-chunks', '1,1,1']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--shard-chunks must be four integers/);
});
