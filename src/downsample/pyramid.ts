/**
 * The pyramid's state machine, apart from any stream or thread: level-0 frames go in, the frames of levels
 * 1..L-1 come out as pairs complete, and finish() flushes frames left unpaired. The Downsampler runs it inline or
 * on a worker thread; both see the same outputs in the same order.
 *
 * Which frames pair is each level's PairingSpec (pairing.ts); without one, consecutive frames pair (t halved).
 * Memory: a level holds at most maxPending(spec) pending states at once (1 for consecutive pairing), each the first
 * frame of a pair reduced to quarter size (never a reference to an input). Consumed states wait as spares for the
 * next begin() to reuse, as many as may be pending again (at least one, for singles), so the level's states number
 * at most max(1, maxPending) and none is allocated once they all exist.
 */
import type { DType, PixelArray } from '../dtype.js';
import type { FrameShape } from '../chunking/layout.js';
import { reducerFor, type DownsampleMethod, type Pending, type Reducer, type ReducerOptions } from './reduce.js';
import { CONSECUTIVE_PAIRING, PairingCursor, assertPairingChain, maxPending, type PairingSpec } from './pairing.js';

/** Receives each output frame: its level (>= 1), its index within that level, and its pixels (owned by the receiver). */
export type EmitLevelFrame = (level: number, t: number, pixels: PixelArray) => void;

export interface PyramidOptions extends ReducerOptions {
  /** One spec per level transition: pairing[l] makes level l+1 from level l. Absent: consecutive frames pair. */
  pairing?: readonly PairingSpec[];
}

interface LevelState {
  shape: FrameShape;
  /** Next t to emit at this level. */
  t: number;
  /** Where this level's next frame goes: its key and role. */
  cursor: PairingCursor;
  /** First frames of incomplete pairs by key, already reduced in space; a Map iterates in the order they arrived. */
  pending: Map<number, Pending>;
  /** Consumed pending states whose memory the next begin() may reuse (never an emitted buffer). */
  spares: Pending[];
  /** The most spares worth keeping: as many as may be pending at once. */
  maxSpares: number;
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
    options: PyramidOptions = {},
  ) {
    this.reducer = reducerFor(dtype, method, options);
    const { pairing } = options;
    if (pairing !== undefined) assertPairingChain(pairing, shapes.length);
    this.levels = shapes.map((shape, l) => {
      const spec = pairing?.[l] ?? CONSECUTIVE_PAIRING;
      return { shape: { ...shape }, t: 0, cursor: new PairingCursor(spec), pending: new Map(), spares: [], maxSpares: Math.max(1, maxPending(spec)) };
    });
  }

  /**
   * Takes the next level-0 frame. Calls are queued, so a caller need not wait for one before the next; `pixels` must
   * not change, and is no longer referenced, once the returned promise settles (compiled kernels read it off the
   * main thread meanwhile).
   */
  add(pixels: PixelArray): Promise<void> {
    return this.enqueue(() => this.fold(0, pixels));
  }

  /**
   * The end of the stream: frames left unpaired at level l are reduced in space alone, from the bottom up, in the
   * order they arrived, so the next level still receives its frames in its acquisition order.
   */
  finish(): Promise<void> {
    return this.enqueue(async () => {
      for (let level = 0; level < this.levels.length - 1; level++) {
        const state = this.levels[level]!;
        for (const [key, pending] of state.pending) {
          state.pending.delete(key);
          await this.emitLevel(level + 1, this.reducer.single(pending));
        }
      }
    });
  }

  /** Runs `step` after every earlier one; after a failure, every later step fails the same way. */
  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.tail.then(step);
    this.tail = run;
    return run;
  }

  /** A frame of `level` exists: reduce it alone, keep it for its partner, or complete the pair into the next level. */
  private async fold(level: number, pixels: PixelArray): Promise<void> {
    if (level + 1 >= this.levels.length) return;
    const state = this.levels[level]!;
    const { key, role } = state.cursor;
    state.cursor.next();
    if (role !== 'second') {
      const pending = await this.reducer.begin(pixels, state.shape, state.spares.pop());
      if (role === 'first') {
        state.pending.set(key, pending);
        return;
      }
      const next = this.reducer.single(pending);
      if (this.reducer.reusesSingleState) this.keepSpare(state, pending);
      await this.emitLevel(level + 1, next);
      return;
    }
    const pending = state.pending.get(key);
    if (pending === undefined) throw new Error(`internal: a second frame at level ${level} has no pending partner under key ${key}`);
    state.pending.delete(key);
    const next = await this.reducer.pair(pending, pixels, state.shape);
    if (this.reducer.reusesPairedState) this.keepSpare(state, pending);
    await this.emitLevel(level + 1, next);
  }

  private keepSpare(state: LevelState, consumed: Pending): void {
    if (state.spares.length < state.maxSpares) state.spares.push(consumed);
  }

  private emitLevel(level: number, pixels: PixelArray): Promise<void> {
    this.emit(level, this.levels[level]!.t++, pixels);
    return this.fold(level, pixels);
  }
}
