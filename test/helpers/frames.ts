/** What went in: the frames a test streams, kept so read-back data can be compared with them. */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { syntheticFrame } from '../../src/frames/synthetic.js';
import type { DType } from '../../src/dtype.js';
import type { Frame } from '../../src/messages.js';

export interface FrameSet {
  frames: Frame[];
  /** All frames' bytes back to back: the (t, c, y, x) array a reader should return. */
  bytes: Uint8Array;
}

export function makeFrames(count: number, width: number, height: number, planes: number, dtype: DType): FrameSet {
  const frames = Array.from({ length: count }, (_, t) => syntheticFrame(t, width, height, planes, dtype));
  const total = frames.reduce((sum, frame) => sum + frame.data.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const frame of frames) {
    bytes.set(new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), offset);
    offset += frame.data.byteLength;
  }
  return { frames, bytes };
}

export function source(frames: readonly unknown[]): Readable {
  return Readable.from(frames, { objectMode: true });
}

export async function tempDir(prefix = 'zs-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Index of the first differing byte, or -1: a failed comparison says where, not just that. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.byteLength !== b.byteLength) return Math.min(a.byteLength, b.byteLength);
  const n = a.byteLength;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Pseudo-random bytes (a fixed LCG, so runs repeat): data no codec can compress. */
export function randomBytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let h = seed;
  for (let i = 0; i < n; i++) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    out[i] = h >>> 24;
  }
  return out;
}

/** Bytes of a frame's pixels (a view, no copy). */
export function frameBytes(frame: Frame): Uint8Array {
  return new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
}

/**
 * A camera SDK's ring of `buffers` frame buffers, as sources usually are: frame t is written into buffer
 * t % buffers just before it is handed over, so each buffer is refilled as soon as the source is asked for the frame
 * `buffers` later. 'push': a Readable (highWaterMark 1) that fills the next buffer each time it is read;
 * 'write-callback': the caller writes each frame into the chain's first stage and refills once its write callback
 * has run (see writeRing).
 */
export function ringBuffers(frames: readonly Frame[], buffers: number): AsyncIterable<Frame> {
  const ring = Array.from({ length: buffers }, () => frameBytes(frames[0]!).slice());
  async function* fill() {
    for (let t = 0; t < frames.length; t++) {
      const slot = ring[t % buffers]!;
      slot.set(frameBytes(frames[t]!));
      const data = new (frames[t]!.data.constructor as new (b: ArrayBufferLike) => Frame['data'])(slot.buffer);
      yield { ...frames[t]!, data };
    }
  }
  return fill();
}

/** A ring-buffer source as a Readable that holds at most one frame ahead (a camera's driver thread). */
export function ringSource(frames: readonly Frame[], buffers: number): Readable {
  return Readable.from(ringBuffers(frames, buffers), { objectMode: true, highWaterMark: 1 });
}

/**
 * Writes a ring buffer's frames into `head`, refilling each buffer as soon as the write callback of its frame has run
 * (`onWrite` is called then, to watch the chain).
 */
export async function writeRing(head: Writable, frames: readonly Frame[], buffers: number, onWrite?: () => void): Promise<void> {
  for await (const frame of ringBuffers(frames, buffers)) {
    await new Promise<void>((resolve, reject) => head.write(frame, (error) => (error ? reject(error) : resolve())));
    onWrite?.();
  }
  head.end();
}
