/**
 * The compiled tile copies (native/pixels_addon.c, run off the main thread by the compressor, a turn's copies in one
 * job) against the JavaScript copy: the same bytes for every tile of frames whose edges are ragged in x, y and
 * planes, into reused buffers full of stale bytes; and a batch with a tile outside its buffers is refused before
 * anything is copied.
 */
import test from 'ava';
import { resolveLayout } from '../src/chunking/layout.js';
import { copyTile, frameTiles } from '../src/chunking/tiles.js';
import { nativeKernels } from '../src/downsample/native-kernels.js';
import { TileCopies } from '../src/transforms/tile-copies.js';
import { firstDifference, randomBytes } from './helpers/frames.js';

const native = nativeKernels()?.copyTilesAsync ? test : test.skip;
if (!nativeKernels() && process.env.CI) test('the pixel kernels are built in CI', (t) => t.fail('pixels addon missing'));

const CASES = [
  { name: 'ragged x and y, uint16', frame: { width: 300, height: 200, planes: 1 }, dtype: 'uint16', chunking: { tileWidth: 128, tileHeight: 128 } },
  { name: 'planes split 2 + 1, uint8', frame: { width: 70, height: 50, planes: 3 }, dtype: 'uint8', chunking: { tileWidth: 32, tileHeight: 20, tilePlanes: 2 } },
  { name: 'full-width rows, float32', frame: { width: 64, height: 40, planes: 2 }, dtype: 'float32', chunking: { tileWidth: 64, tileHeight: 16 } },
] as const;

for (const c of CASES) {
  native(`compiled copy = JavaScript copy, every tile: ${c.name}`, async (t) => {
    const { layout } = resolveLayout(c.frame, c.dtype, { ...c.chunking, framesPerChunk: 4 });
    const frame = randomBytes(c.frame.width * c.frame.height * c.frame.planes * layout.bytesPerPixel, 11);
    // A tile lands at an offset into a segment that holds stale bytes: padding must be written, not assumed.
    const offset = layout.tileBytes;
    const copies = new TileCopies();
    const tiles = frameTiles(layout).map(({ tile, region }) => {
      const expected = randomBytes(3 * layout.tileBytes, 5);
      const actual = expected.slice();
      copyTile(frame, layout, region, expected, offset);
      return { tile, expected, actual, copying: copies.copy(frame, layout, region, actual, offset) };
    });
    t.true(tiles.every(({ copying }) => copying !== undefined), 'the compiled copy runs where the addon is built');
    // Asked for in one turn: one job for all of the frame's tiles.
    t.is(new Set(tiles.map(({ copying }) => copying)).size, 1);
    await Promise.all(tiles.map(({ copying }) => copying));
    for (const { tile, expected, actual } of tiles) t.is(firstDifference(actual, expected), -1, `tile ${tile.join('/')}`);
  });
}

native('a batch with a tile outside its frame or its segment is refused with a RangeError, nothing copied', async (t) => {
  const { layout } = resolveLayout({ width: 64, height: 64, planes: 1 }, 'uint16', { tileWidth: 32, tileHeight: 32, framesPerChunk: 4 });
  const [{ region }] = frameTiles(layout);
  const frame = randomBytes(64 * 64 * 2);
  for (const [bad, offset] of [[new Uint8Array(100), 0], [frame, 1]] as const) {
    const good = new Uint8Array(layout.tileBytes);
    const dest = new Uint8Array(layout.tileBytes);
    const copies = new TileCopies();
    const first = copies.copy(frame, layout, region!, good, 0);
    const second = copies.copy(bad, layout, region!, dest, offset);
    await t.throwsAsync(second!, { instanceOf: RangeError, message: /outside its src or dest/ });
    await t.throwsAsync(first!, { instanceOf: RangeError });
    t.true(good.every((b) => b === 0) && dest.every((b) => b === 0));
  }
});
