/**
 * Pure: whether a level's chunks can be compressed in segments as their frames arrive, and how (the segment plan and
 * the blocksize to ask the engine for). The compressor and the resource estimate (options.ts) both ask here, so
 * both see the same plan.
 */
import type { ArrayLayout } from '../chunking/layout.js';
import { planBlocks, type BlockPlan } from './blosc-blocks.js';
import { nativeBlocksize } from './blosc-native.js';
import type { BloscSettings } from './blosc-settings.js';

/**
 * The segment plan of a level's chunks and the blocksize to ask the engine for, or undefined where its chunks are
 * compressed whole.
 */
export function streamPlanOf(s: BloscSettings, layout: ArrayLayout, native: boolean): { plan: BlockPlan; request: number } | undefined {
  // Slabs that arrive out of order (an acquisition order unlike storage's) need the whole chunk in memory anyway.
  if (s.clevel === 0 || !layout.slotsInOrder) return undefined;
  const geometry = { chunkBytes: layout.chunkBytes, tileBytes: layout.tileBytes, framesPerChunk: layout.slotsPerChunk };
  if (native) {
    const blocksize = nativeBlocksize(s, layout.chunkBytes);
    const plan = blocksize && planBlocks(geometry, blocksize.blocksize);
    return plan ? { plan, request: blocksize.request } : undefined;
  }
  // numcodecs cannot be asked for its blocksize before it has loaded; its automatic ones (typesize 4) are powers
  // of two up to 1 MiB, so segments of whole MiBs hold whole blocks whichever it picks. A requested blocksize,
  // or a bit shuffle (which stored blocks cannot reproduce), keeps whole chunks.
  const plan = s.blocksize === 0 && s.shuffle !== 'bit' ? planBlocks(geometry, 0, undefined, undefined, WASM_BLOCK_UNIT) : undefined;
  return plan && { plan, request: 0 };
}

/** A multiple of every automatic blocksize numcodecs' c-blosc picks (typesize 4: powers of two up to 1 MiB). */
const WASM_BLOCK_UNIT = 2 ** 20;

