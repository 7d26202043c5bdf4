/**
 * The pyramid's state machine, apart from any stream or thread: level-0 frames go in, the frames of levels
 * 1..L-1 come out as pairs complete, and finish() flushes frames left unpaired. The Downsampler runs it inline or
 * on a worker thread; both see the same outputs in the same order.
 */
import type { DType, PixelArray } from '../dtype.js';
import type { FrameShape } from '../chunking/layout.js';
import { reducerFor, type DownsampleMethod, type Pending, type Reducer, type ReducerOptions } from './reduce.js';

/** Receives each output frame: its level (>= 1), its index within that level, and its pixels (owned by the receiver). */
export type EmitLevelFrame = (level: number, t: number, pixels: PixelArray) => void;

interface LevelState {
  shape: FrameShape;
  /** Next t to emit at this level. */
  t: number;
  /** The first frame of an incomplete pair, already reduced in space. */
  pending: Pending | undefined;
  /** A consumed pending state whose memory the next begin() may reuse (never an emitted buffer). */
  spare: Pending | undefined;
}

export class PyramidBuilder {
  private readonly reducer: Reducer;
  private readonly levels: LevelState[];
  private tail: Promise<void> = Promise.resolve();

  constructor(
    shapes: readonly FrameShape[],
    dtype: DType,
    method: DownsampleMethod,
    private readonly emit: EmitLevelFrame,
    options: ReducerOptions = {},
  ) {
    this.reducer = reducerFor(dtype, method, options);
    this.levels = shapes.map((shape) => ({ shape: { ...shape }, t: 0, pending: undefined, spare: undefined }));
  }

  /**
   * Takes the next level-0 frame. Calls are queued, so a caller need not wait for one before the next; `pixels` must
   * not change, and is no longer referenced, once the returned promise settles (compiled kernels read it off the
   * main thread meanwhile).
   */
  add(pixels: PixelArray): Promise<void> {
    return this.enqueue(() => this.fold(0, pixels));
  }

  /** The end of the stream: an unpaired frame at level l is reduced in space alone, from the bottom up. */
  finish(): Promise<void> {
    return this.enqueue(async () => {
      for (let level = 0; level < this.levels.length - 1; level++) {
        const pending = this.levels[level]!.pending;
        if (pending === undefined) continue;
        this.levels[level]!.pending = undefined;
        await this.emitLevel(level + 1, this.reducer.single(pending));
      }
    });
  }

  /** Runs `step` after every earlier one; after a failure, every later step fails the same way. */
  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.tail.then(step);
    this.tail = run;
    return run;
  }

  /** A frame of `level` exists: keep it for its partner, or complete the pair into the next level. */
  private async fold(level: number, pixels: PixelArray): Promise<void> {
    if (level + 1 >= this.levels.length) return;
    const state = this.levels[level]!;
    if (state.pending === undefined) {
      const spare = state.spare;
      state.spare = undefined;
      state.pending = await this.reducer.begin(pixels, state.shape, spare);
      return;
    }
    const pending = state.pending;
    state.pending = undefined;
    const next = await this.reducer.pair(pending, pixels, state.shape);
    if (this.reducer.reusesPairedState) state.spare = pending;
    await this.emitLevel(level + 1, next);
  }

  private emitLevel(level: number, pixels: PixelArray): Promise<void> {
    this.emit(level, this.levels[level]!.t++, pixels);
    return this.fold(level, pixels);
  }
}
