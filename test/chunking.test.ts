import test from 'ava';
import { resolveLayout, framesPerChunkFor, MIB } from '../src/chunking/layout.js';
import { chunkCoordsOf, placeFrame } from '../src/chunking/placement.js';
import { copyTile, contiguousTileView, frameTiles, tileRegion } from '../src/chunking/tiles.js';
import { chunkKey, v2ArrayMetadata, v3ArrayMetadata } from '../src/metadata/zarr.js';
import { validateKey } from '../src/stores/keys.js';
import { resolveOptions } from '../src/options.js';
import { MemoryStore } from '../src/stores/memory-store.js';

test('the seed example: 1920x1080 uint8, 640x360 tiles, 64 MiB -> 9 tiles per frame, 291 frames per chunk', (t) => {
  const { layout, warnings } = resolveLayout({ width: 1920, height: 1080, planes: 1 }, 'uint8', { tileWidth: 640, tileHeight: 360, tilePlanes: 1, maxBytesPerChunk: 64 * MIB });
  t.is(layout.tilesPerFrame, 9);
  t.is(layout.chunk.frames, 291);
  t.deepEqual(layout.grid, { planes: 1, height: 3, width: 3 });
  t.is(layout.tileBytes, 640 * 360);
  t.deepEqual(warnings, []);
});

test('W1 layout: 2048x2048 uint16, 512x512 tiles, 32 MiB -> 64 frames per chunk, 16 chunks per row', (t) => {
  const { layout } = resolveLayout({ width: 2048, height: 2048, planes: 1 }, 'uint16', { tileWidth: 512, tileHeight: 512, maxBytesPerChunk: 32 * MIB });
  t.is(layout.chunk.frames, 64);
  t.is(layout.tilesPerFrame, 16);
  t.is(layout.chunkBytes, 32 * MIB);
});

test('maxBytesPerChunk below 16 MiB is raised to 16 MiB, with a warning', (t) => {
  const { layout, warnings } = resolveLayout({ width: 1024, height: 1024, planes: 1 }, 'uint8', { maxBytesPerChunk: 1 * MIB });
  t.is(layout.chunk.frames, 16);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /maxBytesPerChunk 1048576 .*16 MiB/);
});

test('a tile of 0 or larger than the frame means the whole extent', (t) => {
  const { layout } = resolveLayout({ width: 100, height: 50, planes: 3 }, 'float32', { tileWidth: 0, tileHeight: 4000, tilePlanes: 0 });
  t.deepEqual(layout.chunk, { frames: Math.floor((64 * MIB) / (100 * 50 * 3 * 4)), planes: 3, height: 50, width: 100 });
  t.is(layout.tilesPerFrame, 1);
});

test('framesPerChunk overrides the rule, and the rule never gives fewer than 1 frame', (t) => {
  const { layout } = resolveLayout({ width: 64, height: 64, planes: 1 }, 'uint16', { framesPerChunk: 3 });
  t.is(layout.chunk.frames, 3);
  t.is(framesPerChunkFor(16 * MIB, 100 * MIB), 1);
});

test('ragged tiles: edge regions are clipped to the frame', (t) => {
  const { layout } = resolveLayout({ width: 1000, height: 700, planes: 3 }, 'uint16', { tileWidth: 512, tileHeight: 512, tilePlanes: 2 });
  t.deepEqual(layout.grid, { planes: 2, height: 2, width: 2 });
  t.deepEqual(tileRegion(layout, [1, 1, 1]), { c0: 2, y0: 512, x0: 512, planes: 1, rows: 188, cols: 488 });
  t.deepEqual(chunkCoordsOf(layout, placeFrame(layout, 2 * layout.chunk.frames + 1).prefix, [1, 0, 1]), [2, 1, 0, 1]);
  t.deepEqual(
    frameTiles(layout).map((entry) => entry.tile.join('')),
    ['000', '001', '010', '011', '100', '101', '110', '111'],
  );
});

test('copyTile copies the region and zero-pads the rest, even over stale bytes', (t) => {
  const { layout } = resolveLayout({ width: 5, height: 3, planes: 2 }, 'uint8', { tileWidth: 4, tileHeight: 2, tilePlanes: 2 });
  const frame = Uint8Array.from({ length: 30 }, (_, i) => i + 1); // plane 0: 1..15, plane 1: 16..30
  const dest = new Uint8Array(layout.tileBytes + 2).fill(0xee);
  copyTile(frame, layout, tileRegion(layout, [0, 1, 1]), dest, 1);
  // Region: x 4..4 (1 col), y 2..2 (1 row), planes 0..1.
  t.deepEqual([...dest], [0xee, 15, 0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0xee]);
  copyTile(frame, layout, tileRegion(layout, [0, 0, 0]), dest, 1);
  t.deepEqual([...dest.subarray(1, 17)], [1, 2, 3, 4, 6, 7, 8, 9, 16, 17, 18, 19, 21, 22, 23, 24]);
});

test('full-width tiles are viewed in place, not copied', (t) => {
  const { layout } = resolveLayout({ width: 4, height: 4, planes: 1 }, 'uint16', { tileWidth: 0, tileHeight: 2 });
  const frame = new Uint8Array(32).map((_, i) => i);
  const view = contiguousTileView(frame, layout, tileRegion(layout, [0, 1, 0]));
  t.is(view?.buffer, frame.buffer);
  t.deepEqual([...view!], [...frame.subarray(16, 32)]);
  const ragged = resolveLayout({ width: 4, height: 3, planes: 1 }, 'uint16', { tileWidth: 0, tileHeight: 2 }).layout;
  t.is(contiguousTileView(frame.subarray(0, 24), ragged, tileRegion(ragged, [0, 1, 0])), undefined);
});

test('chunk keys: v2 uses "/" between coordinates, v3 the default "c/" prefix', (t) => {
  t.is(chunkKey(2, '0', [1, 0, 2, 3]), '0/1/0/2/3');
  t.is(chunkKey(3, '0', [1, 0, 2, 3]), '0/c/1/0/2/3');
});

test('array metadata documents', (t) => {
  const { layout } = resolveLayout({ width: 30, height: 20, planes: 2 }, 'int16', { tileWidth: 16, tileHeight: 16, tilePlanes: 1, framesPerChunk: 5 });
  t.deepEqual(v2ArrayMetadata(layout, 7), {
    zarr_format: 2,
    shape: [7, 2, 20, 30],
    chunks: [5, 1, 16, 16],
    dtype: '<i2',
    compressor: null,
    fill_value: 0,
    order: 'C',
    filters: null,
    dimension_separator: '/',
  });
  t.deepEqual(v3ArrayMetadata(layout, 7), {
    zarr_format: 3,
    node_type: 'array',
    shape: [7, 2, 20, 30],
    data_type: 'int16',
    chunk_grid: { name: 'regular', configuration: { chunk_shape: [5, 1, 16, 16] } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 0,
    codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
    attributes: {},
    dimension_names: ['t', 'c', 'y', 'x'],
  });
});

test('store keys: no "..", no absolute paths, no empty segments', (t) => {
  t.deepEqual(validateKey('0/c/1/2'), ['0', 'c', '1', '2']);
  for (const bad of ['../x', 'a/../../b', '/etc/passwd', 'a//b', '', 'a/./b', 'C:/x', 'a\\b']) {
    const error = t.throws(() => validateKey(bad));
    t.true(error!.message.includes(JSON.stringify(bad)), error!.message);
  }
});

test('a known frame count caps the frames per chunk the byte rule derives, per level; an explicit framesPerChunk stays', (t) => {
  const base = { store: new MemoryStore(), dtype: 'uint16' as const, width: 64, height: 64 };
  t.is(resolveOptions(base).layouts[0]!.chunk.frames, 8192);
  t.is(resolveOptions({ ...base, frames: 2 }).layouts[0]!.chunk.frames, 2);
  t.is(resolveOptions({ ...base, frames: 0 }).layouts[0]!.chunk.frames, 1);
  const pyramid = resolveOptions({ ...base, frames: 5, multiscale: true, chunking: { tileWidth: 16, tileHeight: 16 } }).layouts;
  t.deepEqual(pyramid.map((layout) => layout.chunk.frames), [5, 3, 2]);
  t.is(resolveOptions({ ...base, frames: 2, chunking: { framesPerChunk: 16 } }).layouts[0]!.chunk.frames, 16);
  t.throws(() => resolveOptions({ ...base, frames: -1 }), { message: /frames must be a non-negative integer, got -1/ });
});
