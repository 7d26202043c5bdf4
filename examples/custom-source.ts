/**
 * A camera-like source: an async generator that yields one Uint16Array per frame, as a frame grabber's callback
 * would, from a ring of three buffers it refills over and over (as camera SDKs do). zarr-stream copies each frame
 * as it enters (frameOwnership 'copy', the default), so reusing the buffers is safe; it pulls a frame only when the
 * pipeline has room for it, so a slow disk slows the generator instead of filling memory. Writes a compressed
 * two-channel pyramid (multiscale) and logs progress.
 *
 *   node dist/examples/custom-source.js <out.zarr> [frames=12]
 */
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { sinkOf, zarrTransforms } from '../src/index.js';

const WIDTH = 200;
const HEIGHT = 150;
const PLANES = 2;

/** The pixel the camera reports at plane c, row y, column x of frame t (the test recomputes it). */
function cameraPixel(t: number, c: number, y: number, x: number): number {
  return (1000 * c + 10 * t + 3 * y + x) & 0xffff;
}

/**
 * The camera's buffers. A generator's frame may wait in the pipeline's first queue before it is copied, so a ring
 * needs the generator's highWaterMark (1) + 2 buffers; a source that waits for each write callback needs only one.
 */
const ring = Array.from({ length: 3 }, () => new Uint16Array(PLANES * HEIGHT * WIDTH));

/** One frame into the next ring buffer, planar: all of plane 0 (row by row), then all of plane 1: C order of (c, y, x). */
function grab(t: number): Uint16Array {
  const frame = ring[t % ring.length]!;
  for (let c = 0; c < PLANES; c++) {
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) frame[(c * HEIGHT + y) * WIDTH + x] = cameraPixel(t, c, y, x);
    }
  }
  return frame;
}

async function* camera(frames: number): AsyncGenerator<Uint16Array> {
  for (let t = 0; t < frames; t++) {
    await sleep(1); // stands in for the exposure
    yield grab(t);
  }
}

const [out, framesArg = '12'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node dist/examples/custom-source.js <out.zarr> [frames]');
  process.exit(2);
}
const frames = Number(framesArg);

const chain = zarrTransforms({
  store: out,
  zarrVersion: 3,
  dtype: 'uint16',
  width: WIDTH,
  height: HEIGHT,
  planes: PLANES,
  // 64x64 tiles of one plane; 4 frames per chunk (instead of the maxBytesPerChunk rule) so this small run fills
  // several chunk rows and progress shows frames becoming visible.
  chunking: { tileWidth: 64, tileHeight: 64, tilePlanes: 1, framesPerChunk: 4 },
  compression: { codec: 'zstd', clevel: 1 },
  multiscale: true, // 200x150 -> 100x75 -> 50x38: levels until a frame fits one 64x64 tile
  pixelScaleUm: { x: 0.65, y: 0.65 },
  name: 'camera',
});
const sink = sinkOf(chain);
let shown = '';
sink.on('progress', (p: { frames: number[]; chunks: number; bytes: number }) => {
  // One event per stored chunk; print only when more frames have become readable.
  const frames = p.frames.join(' / ');
  if (frames === shown) return;
  shown = frames;
  console.log(`readable frames per level: ${frames} (${p.chunks} chunks, ${p.bytes} bytes stored)`);
});
sink.on('warning', (message: string) => console.warn(`warning: ${message}`));

await pipeline(camera(frames), ...chain);
console.log(`done: ${sink.layouts.length} levels in ${out}`);
