/**
 * Tiles copied into a compressor's segment buffers off the main thread. Copying every pixel from its frame into a
 * segment is the main thread's largest cost in a compressed write (W2: ~0.26 s of its ~0.53 s of CPU, measured
 * with bench/profile.ts under --cpu-prof), and the main thread is the one every stage waits for. The compiled copy
 * (native/pixels_addon.c) runs on libuv's thread pool straight from the frame's memory, so the main thread goes on
 * with the next tiles while the compress workers and the copy share the cores. Where the addon did not build, the
 * JavaScript copy runs in place.
 */
import type { ArrayLayout } from '../chunking/layout.js';
import { copyTile } from '../chunking/tiles.js';
import { nativeKernels } from '../downsample/native-kernels.js';
import type { TileRegion } from '../messages.js';

/**
 * Copies tile `region` of `frame` into `dest` at `destOffset` as a full tile (padding zeroed): on libuv's pool,
 * returning a promise that settles once it is done, or at once in JavaScript (undefined). Neither buffer may
 * change, and `dest`'s tile range not be read, until then.
 */
export function copyTileOffThread(frame: Uint8Array, layout: ArrayLayout, region: TileRegion, dest: Uint8Array, destOffset: number): Promise<void> | undefined {
  const copy = nativeKernels()?.copyTileAsync;
  if (!copy) {
    copyTile(frame, layout, region, dest, destOffset);
    return undefined;
  }
  const { chunk, frame: shape, bytesPerPixel: bpp } = layout;
  const srcRowBytes = shape.width * bpp;
  const g = geometry;
  g[0] = ((region.c0 * shape.height + region.y0) * shape.width + region.x0) * bpp;
  g[1] = srcRowBytes;
  g[2] = shape.height * srcRowBytes;
  g[3] = region.planes;
  g[4] = region.rows;
  g[5] = region.cols * bpp;
  g[6] = destOffset;
  g[7] = chunk.width * bpp;
  g[8] = chunk.height;
  g[9] = chunk.planes;
  return copy(frame, dest, geometry);
}

/** Read by the addon during the call, so one array serves every copy. */
const geometry = new Float64Array(10);
