/**
 * The native engine: native/blosc_addon.c over the system c-blosc, built by scripts/build-native.mjs into
 * build/Release. Writes the true element size as typesize, so shuffles work per element.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BLOSC_MAX_OVERHEAD, shuffleCode, type BloscSettings } from './blosc-settings.js';
import type { BloscEngine } from './engine.js';

interface NativeAddon {
  compress(src: Uint8Array, dest: Uint8Array, clevel: number, shuffle: number, typesize: number, cname: string, blocksize: number): number;
  bloscVersion: string;
  maxOverhead: number;
}

// dist/src/codecs/ -> package root; the env variable lets tests and odd layouts point elsewhere.
const ADDON_PATH = process.env.ZARR_STREAM_BLOSC_ADDON ?? fileURLToPath(new URL('../../../build/Release/blosc_addon.node', import.meta.url));

let addon: NativeAddon | null | undefined;
let loadError = '';

/** The addon, or null when it is not built / cannot load here (the reason is kept for error messages). */
export function loadNativeAddon(): NativeAddon | null {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    } catch (err) {
      addon = null;
      loadError = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    }
  }
  return addon;
}

export function nativeLoadError(): string {
  return loadError;
}

/** The c-blosc version the addon was built against, or undefined when it does not load. */
export function nativeBloscVersion(): string | undefined {
  return loadNativeAddon()?.bloscVersion;
}

export function createNativeEngine(): BloscEngine {
  const lib = loadNativeAddon();
  if (!lib) throw new Error(`native Blosc addon did not load from ${ADDON_PATH}: ${loadError}`);
  return {
    name: 'native',
    compress(src, s, dest) {
      const out = dest ?? new Uint8Array(src.byteLength + BLOSC_MAX_OVERHEAD);
      const n = lib.compress(src, out, s.clevel, shuffleCode(s.shuffle), s.typesize, s.cname, s.blocksize);
      return out.subarray(0, n);
    },
    effectiveTypesize: (s: BloscSettings) => s.typesize,
  };
}

/** A chunk's blocksize, and the blocksize to request so that c-blosc uses that same one on a smaller input. */
export interface NativeBlocksize {
  blocksize: number;
  /** What to pass as `blocksize`: c-blosc scales a requested size by the typesize when it splits blocks by byte. */
  request: number;
}

/**
 * The blocksize c-blosc picks for a `chunkBytes` chunk with settings `s`, read from the header of a compressed
 * probe, and a request that reproduces it on segments; undefined when none does. c-blosc derives the blocksize
 * from the codec, level, typesize and shuffle, capped by the input size and never above 1 MiB when automatic, so a
 * probe of at most 2 MiB (or of the requested blocksize) gives the whole chunk's value.
 */
export function nativeBlocksize(s: BloscSettings, chunkBytes: number): NativeBlocksize | undefined {
  const lib = loadNativeAddon();
  if (!lib) throw new Error(`native Blosc addon did not load from ${ADDON_PATH}: ${loadError}`);
  const probe = new Uint8Array(Math.min(chunkBytes, Math.max(2 * 2 ** 20, s.blocksize)));
  const out = new Uint8Array(probe.byteLength + BLOSC_MAX_OVERHEAD);
  const blocksizeFor = (request: number): number => {
    lib.compress(probe, out, s.clevel, shuffleCode(s.shuffle), s.typesize, s.cname, request);
    return new DataView(out.buffer).getUint32(8, true);
  };
  const blocksize = blocksizeFor(s.blocksize);
  for (const request of [blocksize, blocksize / s.typesize]) {
    if (Number.isInteger(request) && blocksizeFor(request) === blocksize) return { blocksize, request };
  }
  return undefined;
}
