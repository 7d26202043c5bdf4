/**
 * frameOwnership 'copy': each frame is copied, as it enters the chain, into one of a bounded pool of reused buffers,
 * so a source may refill its own buffer as soon as the frame's write callback has run (a camera's ring buffer).
 * The copy goes back to the pool once every stage that reads it has called the message's `release`. The bound is
 * also backpressure: with every buffer in use, the next frame waits for one, and the source waits for it.
 */
import type { FrameMessage } from '../messages.js';
import { BufferPool } from '../util/buffer-pool.js';
import { chainFrame } from './normalize.js';

export type FrameOwnership = 'copy' | 'transfer';
export const FRAME_OWNERSHIPS: readonly FrameOwnership[] = ['copy', 'transfer'];

export class FrameCopies {
  private readonly pool: BufferPool;

  constructor(frameBytes: number, maxFrames: number) {
    this.pool = new BufferPool(frameBytes, maxFrames);
  }

  /** A copy of `message` whose bytes live in a pooled buffer: now if one is free, else once one is released. */
  copy(message: FrameMessage): FrameMessage | Promise<FrameMessage> {
    const buffer = this.pool.acquire();
    return buffer instanceof Uint8Array ? this.fill(message, buffer) : buffer.then((ready) => this.fill(message, ready));
  }

  /** Copies alive (handed out and not yet released by all their holders). */
  get inUse(): number {
    return this.pool.inUse;
  }

  get maxFrames(): number {
    return this.pool.maxBuffers;
  }

  /** Lets the free buffers' memory be collected (the stream is over). */
  drain(): void {
    this.pool.drain();
  }

  private fill(message: FrameMessage, buffer: Uint8Array): FrameMessage {
    buffer.set(message.bytes);
    const pool = this.pool;
    let held = true;
    const release = (): void => {
      if (!held) throw new Error(`frame ${message.t} was released twice`);
      held = false;
      pool.release(buffer);
    };
    return chainFrame({ ...message, bytes: buffer, release });
  }
}
