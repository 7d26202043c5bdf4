/**
 * The c-blosc ceiling: the workload's chunks, assembled in memory before the clock starts, compressed by the
 * project's CompressPool with as many threads as zarr-stream uses. No I/O, no tiling, no streaming: what the writer
 * would reach if compressing were all it did.
 */
import { availableParallelism } from 'node:os';
import { CompressPool } from '../src/codecs/compress-pool.js';
import { nativeEngineAvailable } from '../src/codecs/engine.js';
import type { BloscSettings } from '../src/codecs/blosc-settings.js';
import { bytesPerPixel } from '../src/dtype.js';
import type { Workload } from './workloads.js';

/** Every chunk of the workload (t, y, x order), each its own ArrayBuffer (the pool transfers them). */
export function assembleChunks(w: Workload, all: Uint8Array): Uint8Array[] {
  const bpp = bytesPerPixel(w.dtype);
  const [ct, cy, cx] = w.chunk;
  const frameBytes = w.width * w.height * bpp;
  const chunks: Uint8Array[] = [];
  for (let t0 = 0; t0 < w.frames; t0 += ct) {
    for (let y0 = 0; y0 < w.height; y0 += cy) {
      for (let x0 = 0; x0 < w.width; x0 += cx) {
        const nt = Math.min(ct, w.frames - t0);
        const ny = Math.min(cy, w.height - y0);
        const nx = Math.min(cx, w.width - x0);
        const rowBytes = nx * bpp;
        const chunk = new Uint8Array(nt * ny * rowBytes);
        for (let t = 0; t < nt; t++) {
          for (let y = 0; y < ny; y++) {
            const from = (t0 + t) * frameBytes + ((y0 + y) * w.width + x0) * bpp;
            chunk.set(all.subarray(from, from + rowBytes), (t * ny + y) * rowBytes);
          }
        }
        chunks.push(chunk);
      }
    }
  }
  return chunks;
}

export interface CeilingRun {
  /** Starts the clock's work: compresses every chunk; resolves with the compressed bytes. */
  run(): Promise<number>;
  close(): Promise<void>;
  engine: string;
}

/**
 * A pool warmed up on the first chunks (threads started, output buffers made), so the timed run measures
 * compression, not thread start-up or first-touch page faults. Jobs are kept two per thread in flight, as the
 * chain does, so the output buffers are recycled.
 */
export async function ceiling(w: Workload, chunks: Uint8Array[]): Promise<CeilingRun> {
  if (!w.codec) throw new Error(`${w.name} is not compressed: no c-blosc ceiling`);
  const engine = nativeEngineAvailable() ? 'native' : 'wasm';
  const workers = availableParallelism();
  const pool = new CompressPool({ workers, engine });
  const settings: BloscSettings = { cname: w.codec.cname, clevel: w.codec.clevel, shuffle: w.codec.shuffle, blocksize: 0, typesize: bytesPerPixel(w.dtype) };
  const window = 2 * workers;
  const compressAll = async (count: number): Promise<number> => {
    let next = 0;
    let stored = 0;
    const lane = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        const result = await pool.compress(chunks[i]!, settings);
        stored += result.data.byteLength;
        chunks[i] = result.raw;
        result.release();
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
    return stored;
  };
  await compressAll(Math.min(window, chunks.length));
  return { run: () => compressAll(chunks.length), close: () => pool.close(), engine };
}
