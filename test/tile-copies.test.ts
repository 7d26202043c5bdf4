/**
 * The compiled tile copy (native/pixels_addon.c, run off the main thread by the compressor) against the JavaScript
 * one: the same bytes for every tile of frames whose edges are ragged in x, y and planes, into reused buffers full
 * of stale bytes; and a tile outside either buffer is refused before anything is copied.
 */
import test from 'ava';
import { resolveLayout } from '../src/chunking/layout.js';
import { copyTile, frameTiles } from '../src/chunking/tiles.js';
import { nativeKernels } from '../src/downsample/native-kernels.js';
import { copyTileOffThread } from '../src/transforms/tile-copies.js';
import { firstDifference, randomBytes } from './helpers/frames.js';

const native = nativeKernels()?.copyTileAsync ? test : test.skip;
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
    for (const { tile, region } of frameTiles(layout)) {
      const expected = randomBytes(3 * layout.tileBytes, 5);
      const actual = expected.slice();
      copyTile(frame, layout, region, expected, offset);
      const copying = copyTileOffThread(frame, layout, region, actual, offset);
      t.truthy(copying, 'the compiled copy runs where the addon is built');
      await copying;
      t.is(firstDifference(actual, expected), -1, `tile ${tile.join('/')}`);
    }
  });
}

native('a tile outside its frame or its segment is refused with a RangeError, nothing copied', (t) => {
  const { layout } = resolveLayout({ width: 64, height: 64, planes: 1 }, 'uint16', { tileWidth: 32, tileHeight: 32, framesPerChunk: 4 });
  const [{ region }] = frameTiles(layout);
  const dest = new Uint8Array(layout.tileBytes);
  t.throws(() => copyTileOffThread(new Uint8Array(100), layout, region!, dest, 0), { instanceOf: RangeError, message: /outside src or dest/ });
  const frame = new Uint8Array(64 * 64 * 2);
  t.throws(() => copyTileOffThread(frame, layout, region!, dest, 1), { instanceOf: RangeError, message: /outside src or dest/ });
  t.true(dest.every((b) => b === 0));
});
