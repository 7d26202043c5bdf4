/**
 * One timed write in a fresh process, so that each writer's peak RSS is its own. Frames are loaded into memory
 * before the clock starts (as in the reference runs); the clock stops once the data and metadata are written.
 * Usage: node dist/bench/worker.js <system> <workload> <zarrVersion> <framesFile> <outDir>
 */
import { open, writeFile, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zarr from 'zarrita';
import FileSystemStore from '@zarrita/storage/fs';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { resolveLayout } from '../src/chunking/layout.js';
import { v2ArrayMetadata, v2GroupMetadata, encodeJson } from '../src/metadata/zarr.js';
import { bytesPerPixel } from '../src/dtype.js';
import { WORKLOADS, type Workload } from './workloads.js';

export type System = 'baseline' | 'zarr-stream' | 'zarrita';

const BLOCK = 16 * 2 ** 20;

async function baseline(all: Uint8Array, out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  const fh = await open(path.join(out, 'baseline.bin'), 'w');
  for (let offset = 0; offset < all.byteLength; offset += BLOCK) {
    const end = Math.min(offset + BLOCK, all.byteLength);
    await fh.write(all, offset, end - offset, offset);
  }
  await fh.close();
}

async function zarrStream(w: Workload, version: 2 | 3, frames: Uint16Array[], out: string): Promise<void> {
  await pipeline(
    Readable.from(frames, { objectMode: true }),
    ...zarrTransforms({
      store: out,
      zarrVersion: version,
      dtype: w.dtype,
      width: w.width,
      height: w.height,
      chunking: { tileWidth: w.chunk[2], tileHeight: w.chunk[1], framesPerChunk: w.chunk[0] },
    }),
  );
}

/** zarrita.js as a user would drive it: 64-frame slabs through zarr.set. It creates v3 arrays; v2 arrays are opened from metadata we write. */
async function zarrita(w: Workload, version: 2 | 3, all: Uint8Array, out: string): Promise<void> {
  const store = new FileSystemStore(out);
  const shape = [w.frames, 1, w.height, w.width];
  const chunkShape = [w.chunk[0], 1, w.chunk[1], w.chunk[2]];
  let array;
  if (version === 3) {
    array = await zarr.create(zarr.root(store).resolve('0'), { shape, chunkShape, dtype: 'uint16', chunkSeparator: '/' });
  } else {
    const { layout } = resolveLayout({ width: w.width, height: w.height, planes: 1 }, w.dtype, { tileWidth: w.chunk[2], tileHeight: w.chunk[1], framesPerChunk: w.chunk[0] });
    await mkdir(path.join(out, '0'), { recursive: true });
    await writeFile(path.join(out, '.zgroup'), encodeJson(v2GroupMetadata()));
    await writeFile(path.join(out, '0', '.zarray'), encodeJson(v2ArrayMetadata(layout, w.frames)));
    array = await zarr.open.v2(zarr.root(store).resolve('0'), { kind: 'array' });
  }
  const frameBytes = w.width * w.height * bytesPerPixel(w.dtype);
  const slab = w.chunk[0];
  for (let t = 0; t < w.frames; t += slab) {
    const n = Math.min(slab, w.frames - t);
    const data = new Uint16Array(all.buffer, all.byteOffset + t * frameBytes, (n * frameBytes) / 2);
    await zarr.set(array as zarr.Array<'uint16', FileSystemStore>, [zarr.slice(t, t + n), null, null, null], {
      data,
      shape: [n, 1, w.height, w.width],
      stride: [w.height * w.width, w.height * w.width, w.width, 1],
    });
  }
}

async function main(): Promise<void> {
  const [system, workloadName, versionText, framesFile, out] = process.argv.slice(2) as [System, string, string, string, string];
  const w = WORKLOADS[workloadName];
  if (!w) throw new Error(`unknown workload ${workloadName}`);
  const version = Number(versionText) as 2 | 3;
  const file = readFileSync(framesFile);
  const all = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  const frameBytes = w.width * w.height * bytesPerPixel(w.dtype);
  const frames = Array.from({ length: w.frames }, (_, t) => new Uint16Array(all.buffer, all.byteOffset + t * frameBytes, frameBytes / 2));
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  if (system === 'baseline') await baseline(all, out);
  else if (system === 'zarr-stream') await zarrStream(w, version, frames, out);
  else await zarrita(w, version, all, out);
  const seconds = (performance.now() - started) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ seconds, bytes: all.byteLength, peakRss, rssBefore }) + '\n');
}

await main();
