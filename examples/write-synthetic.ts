/**
 * Streams the standard synthetic frames (docs/synthetic-frames.md) into a Blosc-compressed Zarr v3 dataset.
 *
 *   node dist/examples/write-synthetic.js <out.zarr> [frames=16] [width=256] [height=256]
 *
 * The defaults are small so the example runs in a moment; the benchmark workloads use 128 frames of 2048x2048.
 * Outside this repository, import from 'zarr-stream' instead of '../src/index.js'.
 */
import { pipeline } from 'node:stream/promises';
import { syntheticFrames, zarrTransforms } from '../src/index.js';

const [out, framesArg = '16', widthArg = '256', heightArg = '256'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node dist/examples/write-synthetic.js <out.zarr> [frames] [width] [height]');
  process.exit(2);
}
const frames = Number(framesArg);
const width = Number(widthArg);
const height = Number(heightArg);

await pipeline(
  syntheticFrames({ frames, width, height, dtype: 'uint16' }),
  ...zarrTransforms({
    store: out,
    dtype: 'uint16',
    width,
    height,
    // 16 frames per chunk: left to the maxBytesPerChunk rule (64 MiB by default), 128x128 uint16 tiles would
    // make 2048-frame chunks, which a short run mostly fills with padding and which cost 64 MiB of memory each.
    chunking: { tileWidth: 128, tileHeight: 128, framesPerChunk: 16 },
    compression: { codec: 'lz4', clevel: 1, shuffle: 'byte' },
  }),
);
console.log(`wrote ${frames} frames of ${width}x${height} uint16 to ${out}`);
