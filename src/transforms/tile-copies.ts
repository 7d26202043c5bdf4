/**
 * Tiles copied into a compressor's segment buffers off the main thread. Copying every pixel from its frame into a
 * segment is the main thread's largest cost in a compressed write (W2: ~0.26 s of its ~0.53 s of CPU, measured
 * with bench/profile.ts under --cpu-prof), and the main thread is the one every stage waits for. The compiled copy
 * (native/pixels_addon.c) runs on libuv's thread pool straight from the frame's memory, so the main thread goes on
 * with the next tiles while the compress workers and the copies share the cores. The copies asked for in one turn
 * of the event loop (a frame's tiles, as they pass through the chain) go as one job: a job per tile costs the main
 * thread a thread wake-up each (~30 us on a busy machine, 8192 of them in W5). Where the addon did not build, the
 * JavaScript copy runs in place.
 */
import type { ArrayLayout } from '../chunking/layout.js';
import { copyTile } from '../chunking/tiles.js';
import { nativeKernels } from '../downsample/native-kernels.js';
import type { TileRegion } from '../messages.js';

/** Copies per job at most: a batch this large goes at once instead of waiting for the end of the turn. */
const MAX_BATCH = 256;

interface Batch {
  srcs: Uint8Array[];
  dests: Uint8Array[];
  geometry: number[];
  done: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

export class TileCopies {
  private batch: Batch | undefined;
  private readonly native = nativeKernels()?.copyTilesAsync;

  /**
   * Copies tile `region` of `frame` into `dest` at `destOffset` as a full tile (padding zeroed): off the main thread,
   * returning a promise that settles once it is done, or at once in JavaScript (undefined). Neither buffer may
   * change, and `dest`'s tile range not be read, until then.
   */
  copy(frame: Uint8Array, layout: ArrayLayout, region: TileRegion, dest: Uint8Array, destOffset: number): Promise<void> | undefined {
    if (!this.native) {
      copyTile(frame, layout, region, dest, destOffset);
      return undefined;
    }
    const batch = (this.batch ??= this.startBatch());
    const { chunk, frame: shape, bytesPerPixel: bpp } = layout;
    const srcRowBytes = shape.width * bpp;
    batch.srcs.push(frame);
    batch.dests.push(dest);
    batch.geometry.push(
      ((region.c0 * shape.height + region.y0) * shape.width + region.x0) * bpp,
      srcRowBytes,
      shape.height * srcRowBytes,
      region.planes,
      region.rows,
      region.cols * bpp,
      destOffset,
      chunk.width * bpp,
      chunk.height,
      chunk.planes,
    );
    if (batch.srcs.length >= MAX_BATCH) this.flush(batch);
    return batch.done;
  }

  private startBatch(): Batch {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const done = new Promise<void>((yes, no) => ((resolve = yes), (reject = no)));
    const batch: Batch = { srcs: [], dests: [], geometry: [], done, resolve, reject };
    setImmediate(() => this.flush(batch));
    return batch;
  }

  /** Sends the batch as one job (once: the turn's end and a full batch may both ask). */
  private flush(batch: Batch): void {
    if (this.batch === batch) this.batch = undefined;
    if (batch.srcs.length === 0) return;
    const { srcs, dests } = batch;
    const geometry = Float64Array.from(batch.geometry);
    batch.srcs = [];
    batch.dests = [];
    batch.geometry = [];
    try {
      // The addon holds the two lists (and so every frame and segment in them) until the job settles.
      this.native!(srcs, dests, geometry).then(
        () => batch.resolve(),
        (error: Error) => batch.reject(error),
      );
    } catch (error) {
      batch.reject(error as Error);
    }
  }
}
