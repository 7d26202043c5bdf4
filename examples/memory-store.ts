/**
 * Writes into a MemoryStore (nothing touches the disk while streaming), lists the keys the dataset is made of,
 * then copies every key into a FileSystemStore at <out> so other tools can open it.
 *
 *   node dist/examples/memory-store.js <out.zarr>
 */
import { pipeline } from 'node:stream/promises';
import { FileSystemStore, MemoryStore, syntheticFrames, zarrTransforms } from '../src/index.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: node dist/examples/memory-store.js <out.zarr>');
  process.exit(2);
}

const store = new MemoryStore();
await pipeline(
  syntheticFrames({ frames: 5, width: 48, height: 40, dtype: 'uint8' }),
  ...zarrTransforms({ store, zarrVersion: 2, dtype: 'uint8', width: 48, height: 40, chunking: { tileWidth: 32, tileHeight: 32, framesPerChunk: 2 } }),
);

// A store is a flat map of '/'-separated keys to bytes: metadata documents and one value per chunk.
for (const [key, value] of [...store.map].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`${key.padEnd(12)} ${value.byteLength} bytes`);
}

const disk = new FileSystemStore(out);
for (const [key, value] of store.map) await disk.set(key, value);
console.log(`copied ${store.map.size} keys to ${disk.root}`);
