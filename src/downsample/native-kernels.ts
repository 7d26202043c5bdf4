/**
 * The compiled 2x2x2 mean kernels for small integer pixels (native/pixels_addon.c, built at install by
 * scripts/build-native.mjs with no library needed). They give the same results as the JavaScript kernels in
 * reduce.ts at about twice the speed of the JavaScript ones, and run on libuv's thread pool straight from the
 * frame's memory (no copy to a worker); where the addon did not build, the JavaScript kernels run (on a worker
 * thread for large frames).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { DType } from '../dtype.js';
import { rebuildCommand } from '../package-files.js';
import { warnOnce } from '../util/warn-once.js';
import type { DownsampleMethod } from './reduce.js';

type SmallPixels = Uint8Array | Int8Array | Uint16Array | Int16Array;

/**
 * Both run on libuv's thread pool, reading and writing the arrays in place: the main thread goes on with other work
 * (moving the frame's tiles) meanwhile. The arrays must not change until the promise settles.
 */
export interface NativeKernels {
  /** sums[o] = the sum of 2x2 block o of `src` (odd edges repeated). */
  sum2x2Async(src: SmallPixels, width: number, height: number, planes: number, sums: Int32Array): Promise<void>;
  /** out[o] = (sums[o] + 2x2 block o of `src` + 4) >> 3: the rounded 8-sample mean. */
  meanPairAsync(sums: Int32Array, src: SmallPixels, width: number, height: number, planes: number, out: SmallPixels): Promise<void>;
  /** Tiles of frames copied into segments as full tiles, padded, in one job (transforms/tile-copies.ts). */
  copyTilesAsync?(srcs: Uint8Array[], dests: Uint8Array[], geometry: Float64Array): Promise<void>;
}

// dist/src/downsample/ -> package root; the env variable lets tests and odd layouts point elsewhere ('' = none).
const ADDON_PATH = process.env.ZARR_STREAM_PIXELS_ADDON ?? fileURLToPath(new URL('../../../build/Release/pixels_addon.node', import.meta.url));

let addon: NativeKernels | null | undefined;
let loadError = '';

/** The kernels, or null where the addon is not built or does not load. */
export function nativeKernels(): NativeKernels | null {
  if (addon === undefined) {
    try {
      // An empty path is a deliberate choice of the JavaScript kernels (tests), not a failed build.
      addon = ADDON_PATH ? (createRequire(import.meta.url)(ADDON_PATH) as NativeKernels) : null;
      if (!ADDON_PATH) loadError = 'ZARR_STREAM_PIXELS_ADDON is empty';
    } catch (error) {
      addon = null;
      loadError = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      warnOnce(
        'ZARR_STREAM_NO_NATIVE_KERNELS',
        `the compiled pyramid kernels did not load (${loadError}); downsampling with the slower JavaScript kernels. ` +
          `To build them (a C compiler is all they need): ${rebuildCommand()}`,
      );
    }
  }
  return addon;
}

/** Why nativeKernels() is null ('' when it loaded or was not tried yet). */
export function nativeKernelsLoadError(): string {
  return loadError;
}

const SMALL: readonly DType[] = ['uint8', 'int8', 'uint16', 'int16'];

/** Whether `method` on `dtype` pixels runs compiled here. */
export function nativeReduction(dtype: DType, method: DownsampleMethod): boolean {
  return method === 'mean' && SMALL.includes(dtype) && nativeKernels() !== null;
}
