/**
 * Pure pyramid arithmetic: the frame shape of every level. Each level halves x and y (rounding up, since an odd
 * edge is padded by repeating its last row/column) and keeps the planes, as the seed driver's Zarr storage did.
 */
import { clampTile, type FrameShape } from '../chunking/layout.js';
import { describeValue } from '../util/describe-value.js';

/** The next level's frame shape. */
export function halfShape(shape: FrameShape): FrameShape {
  return { width: Math.ceil(shape.width / 2), height: Math.ceil(shape.height / 2), planes: shape.planes };
}

/** The shapes of `count` levels, level 0 first. */
export function levelShapes(frame: FrameShape, count: number): FrameShape[] {
  assertFrameShape(frame, 'frame');
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`levels must be a positive integer; got ${describeValue(count)}`);
  }
  const shapes = [{ width: frame.width, height: frame.height, planes: frame.planes }];
  while (shapes.length < count) shapes.push(halfShape(shapes[shapes.length - 1]));
  return shapes;
}

/**
 * Levels are added until a level's frame fits within one tile in x and y, so the top level is a single chunk
 * per frame. Tile sizes follow clampTile: 0 (or more than the frame) means the whole extent, i.e. one level.
 * Example: 1920x1080 with 384x216 tiles gives 1920x1080, 960x540, 480x270, 240x135.
 */
export function pyramidShapes(frame: FrameShape, tileWidth?: number, tileHeight?: number): FrameShape[] {
  assertFrameShape(frame, 'frame');
  assertTile(tileWidth, 'tileWidth');
  assertTile(tileHeight, 'tileHeight');
  const tw = clampTile(tileWidth, frame.width);
  const th = clampTile(tileHeight, frame.height);
  const shapes = [{ width: frame.width, height: frame.height, planes: frame.planes }];
  let last = shapes[0];
  // Terminates: tw, th >= 1 and every halving of an extent > 1 makes it smaller.
  while (last.width > tw || last.height > th) {
    last = halfShape(last);
    shapes.push(last);
  }
  return shapes;
}

/** Throws unless `shapes` is a valid pyramid: level 0 any frame, then each level half of the one below. */
export function assertLevelShapes(shapes: readonly FrameShape[], field = 'levels'): void {
  if (!Array.isArray(shapes) || shapes.length === 0) {
    throw new RangeError(`${field} must be a positive integer or a non-empty list of level shapes; got ${describeValue(shapes)}`);
  }
  assertFrameShape(shapes[0], `${field}[0]`);
  for (let i = 1; i < shapes.length; i++) {
    const want = halfShape(shapes[i - 1]);
    const got = shapes[i];
    if (!got || got.width !== want.width || got.height !== want.height || got.planes !== want.planes) {
      throw new RangeError(
        `${field}[${i}] must be ${shapeText(want)} (half of ${field}[${i - 1}], rounded up); got ${got ? shapeText(got) : describeValue(got)}`,
      );
    }
  }
}

export function shapeText(shape: FrameShape): string {
  return `${shape.width}x${shape.height}x${shape.planes} (width x height x planes)`;
}

function assertFrameShape(shape: FrameShape, field: string): void {
  if (typeof shape !== 'object' || shape === null) throw new TypeError(`${field} must be a frame shape {width, height, planes}; got ${describeValue(shape)}`);
  for (const key of ['width', 'height', 'planes'] as const) {
    const value = shape[key];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${field}.${key} must be a positive integer; got ${describeValue(value)}`);
    }
  }
}

function assertTile(tile: number | undefined, field: string): void {
  if (tile === undefined) return;
  if (!Number.isSafeInteger(tile) || tile < 0) {
    throw new RangeError(`${field} must be a non-negative integer (0 means the whole extent); got ${describeValue(tile)}`);
  }
}

