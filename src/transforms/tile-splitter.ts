/** TileSplitter: frames in, tile descriptors out (no pixel copies; the accumulator copies each tile once). */
import { Transform, type TransformCallback } from 'node:stream';
import type { ArrayLayout } from '../chunking/layout.js';
import { frameTiles } from '../chunking/tiles.js';
import { normalizeFrame } from '../frames/normalize.js';
import { shareRelease } from '../util/shared-release.js';
import type { FrameInput, FrameMessage, TileMessage, TileRegion } from '../messages.js';

export interface TileSplitterOptions {
  /** One layout per pyramid level, indexed by level. */
  layouts: readonly ArrayLayout[];
  /** Level-0 frames the array holds (a fixed size along the append dimension); more are an error. */
  maxFrames?: number;
}

export class TileSplitter extends Transform {
  private readonly layouts: readonly ArrayLayout[];
  private readonly tilesByLevel: Array<Array<{ tile: [number, number, number]; region: TileRegion }>>;
  /** Index of the next bare (level-0) input frame, for error messages and FrameMessage.t. */
  private nextInput = 0;
  private readonly maxFrames: number;

  constructor(options: TileSplitterOptions) {
    // Each message pins at most one frame; a frame's worth of tiles keeps the pipe moving without holding more.
    const tiles = options.layouts[0]?.tilesPerFrame ?? 1;
    super({ objectMode: true, readableHighWaterMark: tiles, writableHighWaterMark: 1 });
    this.layouts = options.layouts;
    this.tilesByLevel = options.layouts.map(frameTiles);
    this.maxFrames = options.maxFrames ?? Infinity;
  }

  override _transform(input: FrameInput | FrameMessage, _encoding: BufferEncoding, callback: TransformCallback): void {
    let frame: FrameMessage;
    try {
      const base = this.layouts[0]!;
      frame = normalizeFrame(input, this.nextInput, { ...base.frame, dtype: base.dtype });
      if (frame.level === 0 && frame.t >= this.maxFrames) {
        throw new RangeError(`frame ${frame.t}: the array holds ${this.maxFrames} frames (its first dimension has a fixed size: ${this.maxFrames / base.framesPerStep} steps of ${base.framesPerStep} frames); give size 0 for an unbounded acquisition`);
      }
      if (frame.level === 0) this.nextInput++;
    } catch (error) {
      callback(error as Error);
      return;
    }
    const tiles = this.tilesByLevel[frame.level];
    if (!tiles) {
      callback(new RangeError(`frame ${frame.t} of level ${frame.level}: no such level (the dataset has ${this.layouts.length})`));
      return;
    }
    // A pooled frame copy goes back once every tile is done with it.
    const release = frame.release && shareRelease(frame.release, tiles.length);
    for (const { tile, region } of tiles) {
      const message: TileMessage = { kind: 'tile', level: frame.level, t: frame.t, tile, region, frame, release };
      this.push(message);
    }
    callback();
  }
}
