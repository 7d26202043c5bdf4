/**
 * Pure placement arithmetic: where a level's frame k goes. Its position is k in mixed radix over the acquisition
 * order of [append, ...outer] (the append dimension outermost, unbounded); the chunk it lands in is that position
 * over the chunk extents, and its slab in the chunk (its slot) is the position within the chunk, C ordered over the
 * chunk's extents in storage order. Frames are placed by these coordinates, never by transposing copies.
 * For the (t, c, y, x) shorthand all of this reduces to: chunk t / framesPerChunk, slot t % framesPerChunk.
 */
import type { ArrayLayout } from './layout.js';

export interface Placement {
  /** The chunk's coordinates along [append, ...outer]: the start of its key; [0] is its chunk row. */
  prefix: number[];
  /** The frame's slab within the chunk (bytes at slot * tileBytes). */
  slot: number;
  /** The chunk's last slab inside the array: when it arrives, a chunk whose slabs arrive in order is complete. */
  lastSlot: number;
  /** Slabs of the chunk inside the array along the outer dimensions (all of them along the append dimension). */
  validSlots: number;
  /** The chunk's index among the outer chunks of its row (C order over the outer chunk grid). */
  outerIndex: number;
  /** The frame's step along the append dimension. */
  step: number;
}

/** Where frame `ordinal` of `layout`'s level goes. */
export function placeFrame(layout: ArrayLayout, ordinal: number): Placement {
  const { outer, acquisition, framesPerStep } = layout;
  const chunkFrames = layout.chunk.frames;
  const step = Math.floor(ordinal / framesPerStep);
  if (outer.length === 0) {
    const slot = step % chunkFrames;
    return { prefix: [Math.floor(step / chunkFrames)], slot, lastSlot: chunkFrames - 1, validSlots: chunkFrames, outerIndex: 0, step };
  }
  // Position along each outer dimension (storage order), from the acquisition order's innermost dimension out.
  const position = new Array<number>(outer.length);
  let rest = ordinal - step * framesPerStep;
  for (let i = acquisition.length - 1; i >= 1; i--) {
    const d = acquisition[i]! - 1;
    const size = outer[d]!.size;
    position[d] = rest % size;
    rest = Math.floor(rest / size);
  }
  const prefix = [Math.floor(step / chunkFrames)];
  let slot = step % chunkFrames;
  let lastSlot = chunkFrames - 1;
  let validSlots = chunkFrames;
  let outerIndex = 0;
  for (let d = 0; d < outer.length; d++) {
    const { size, chunk } = outer[d]!;
    const index = Math.floor(position[d]! / chunk);
    const inside = Math.min(chunk, size - index * chunk);
    prefix.push(index);
    slot = slot * chunk + (position[d]! - index * chunk);
    lastSlot = lastSlot * chunk + inside - 1;
    validSlots *= inside;
    outerIndex = outerIndex * Math.ceil(size / chunk) + index;
  }
  return { prefix, slot, lastSlot, validSlots, outerIndex, step };
}

/** The chunk key's coordinates: the placement's prefix, then the tile (c, y, x); c only where planes are stored. */
export function chunkCoordsOf(layout: ArrayLayout, prefix: readonly number[], tile: readonly [number, number, number]): number[] {
  return layout.planesStored ? [...prefix, tile[0], tile[1], tile[2]] : [...prefix, tile[1], tile[2]];
}

/** Every outer chunk prefix of chunk row `row`, C order over the outer chunk grid (one, [row], for the shorthand). */
export function rowPrefixes(layout: ArrayLayout, row: number): number[][] {
  let prefixes: number[][] = [[row]];
  for (const { size, chunk } of layout.outer) {
    const count = Math.ceil(size / chunk);
    prefixes = prefixes.flatMap((prefix) => Array.from({ length: count }, (_, i) => [...prefix, i]));
  }
  return prefixes;
}

/** The array's shape holding `steps` steps of the append dimension. */
export function arrayShapeOf(layout: ArrayLayout, steps: number): number[] {
  const { frame } = layout;
  return [steps, ...layout.outer.map((d) => d.size), ...(layout.planesStored ? [frame.planes] : []), frame.height, frame.width];
}

/** The chunk shape, storage order. */
export function chunkShapeOf(layout: ArrayLayout): number[] {
  const { chunk } = layout;
  return [chunk.frames, ...layout.outer.map((d) => d.chunk), ...(layout.planesStored ? [chunk.planes] : []), chunk.height, chunk.width];
}

/** Chunks along each dimension but the append one (the chunk grid of one chunk row), storage order. */
export function rowGridOf(layout: ArrayLayout): number[] {
  const { grid } = layout;
  return [...layout.outer.map((d) => Math.ceil(d.size / d.chunk)), ...(layout.planesStored ? [grid.planes] : []), grid.height, grid.width];
}
