/**
 * Pure tile arithmetic and the one copy a frame's pixels make on their way to a chunk: from a frame (C order
 * (c, y, x)) into a tile-shaped slab (C order (c, y, x) of the full tile shape, edges padded with the fill value 0).
 */
import type { ArrayLayout } from './layout.js';
import type { TileRegion } from '../messages.js';

/** The part of tile (c, y, x) that lies inside the frame; edge tiles are smaller than the tile shape. */
export function tileRegion(layout: ArrayLayout, tile: readonly [number, number, number]): TileRegion {
  const { chunk, frame } = layout;
  const c0 = tile[0] * chunk.planes;
  const y0 = tile[1] * chunk.height;
  const x0 = tile[2] * chunk.width;
  return {
    c0,
    y0,
    x0,
    planes: Math.min(chunk.planes, frame.planes - c0),
    rows: Math.min(chunk.height, frame.height - y0),
    cols: Math.min(chunk.width, frame.width - x0),
  };
}

/** Every tile of a frame, in C order over (c, y, x): the order in which chunk parts reach the sink. */
export function frameTiles(layout: ArrayLayout): Array<{ tile: [number, number, number]; region: TileRegion }> {
  const tiles: Array<{ tile: [number, number, number]; region: TileRegion }> = [];
  for (let c = 0; c < layout.grid.planes; c++) {
    for (let y = 0; y < layout.grid.height; y++) {
      for (let x = 0; x < layout.grid.width; x++) {
        const tile: [number, number, number] = [c, y, x];
        tiles.push({ tile, region: tileRegion(layout, tile) });
      }
    }
  }
  return tiles;
}

/**
 * An unpadded tile as views of its rows in the frame, in chunk order (planes, then rows): what a gathered write
 * needs to store it without copying. Undefined for edge tiles, whose padding needs a copy anyway.
 */
export function tileRowViews(frameBytes: Uint8Array, layout: ArrayLayout, region: TileRegion): Uint8Array[] | undefined {
  const { chunk, frame, bytesPerPixel: bpp } = layout;
  if (region.planes !== chunk.planes || region.rows !== chunk.height || region.cols !== chunk.width) return undefined;
  const rowBytes = region.cols * bpp;
  const srcRowBytes = frame.width * bpp;
  const views: Uint8Array[] = new Array(region.planes * region.rows);
  let i = 0;
  for (let p = 0; p < region.planes; p++) {
    let at = frameBytes.byteOffset + (((region.c0 + p) * frame.height + region.y0) * frame.width + region.x0) * bpp;
    for (let r = 0; r < region.rows; r++, at += srcRowBytes) views[i++] = new Uint8Array(frameBytes.buffer, at, rowBytes);
  }
  return views;
}

/**
 * When the tile's bytes are already one contiguous, unpadded run of the frame (full-width tiles of one plane, or
 * whole planes), returns a view of them so no copy is needed; otherwise undefined.
 */
export function contiguousTileView(frameBytes: Uint8Array, layout: ArrayLayout, region: TileRegion): Uint8Array | undefined {
  const { chunk, frame, bytesPerPixel: bpp } = layout;
  const full = region.planes === chunk.planes && region.rows === chunk.height && region.cols === chunk.width;
  if (!full || region.cols !== frame.width) return undefined;
  if (region.planes > 1 && region.rows !== frame.height) return undefined;
  const start = ((region.c0 * frame.height + region.y0) * frame.width + region.x0) * bpp;
  return frameBytes.subarray(start, start + layout.tileBytes);
}

/**
 * Copies tile `region` of a frame into `dest` at `destOffset` as a full tile (layout.tileBytes bytes), zeroing the
 * padding so that reused buffers never leak stale pixels.
 */
export function copyTile(frameBytes: Uint8Array, layout: ArrayLayout, region: TileRegion, dest: Uint8Array, destOffset: number): void {
  const { chunk, frame, bytesPerPixel: bpp } = layout;
  const srcRowBytes = frame.width * bpp;
  const tileRowBytes = chunk.width * bpp;
  const copyBytes = region.cols * bpp;
  const src = Buffer.from(frameBytes.buffer, frameBytes.byteOffset, frameBytes.byteLength);
  const planeBytes = chunk.height * tileRowBytes;
  for (let p = 0; p < chunk.planes; p++) {
    const destPlane = destOffset + p * planeBytes;
    if (p >= region.planes) {
      dest.fill(0, destPlane, destPlane + planeBytes);
      continue;
    }
    let srcRow = (((region.c0 + p) * frame.height + region.y0) * frame.width + region.x0) * bpp;
    if (copyBytes === tileRowBytes && copyBytes === srcRowBytes) {
      // Full-width rows are contiguous in both: one copy for the whole plane.
      src.copy(dest, destPlane, srcRow, srcRow + region.rows * srcRowBytes);
    } else {
      let destRow = destPlane;
      for (let r = 0; r < region.rows; r++, srcRow += srcRowBytes, destRow += tileRowBytes) {
        src.copy(dest, destRow, srcRow, srcRow + copyBytes);
        if (copyBytes < tileRowBytes) dest.fill(0, destRow + copyBytes, destRow + tileRowBytes);
      }
    }
    if (region.rows < chunk.height) dest.fill(0, destPlane + region.rows * tileRowBytes, destPlane + planeBytes);
  }
}
