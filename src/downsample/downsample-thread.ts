/**
 * The Downsampler's worker thread, seen from the main thread: each level-0 frame is copied into one of two reused
 * shared slots (a copy into reused memory is ~20x cheaper here than the reduction it moves off the main thread),
 * and the pyramid frames come back in order. At most two frames are out at once; add() waits beyond that.
 */
import { Worker } from 'node:worker_threads';
import type { DownsampleReply, DownsampleRequest, DownsampleWorkerInit } from './downsample-protocol.js';

const WORKER_URL = new URL('./downsample-worker.js', import.meta.url);
const SLOTS = 2;

export class DownsampleThread {
  private readonly worker: Worker;
  private readonly free: SharedArrayBuffer[] = [];
  private readonly waiting: Array<() => void> = [];
  private readonly replies = new Map<number, { slot?: SharedArrayBuffer; resolve: () => void; reject: (error: Error) => void }>();
  private slotsMade = 0;
  private nextId = 0;
  private failure: Error | undefined;

  constructor(
    init: DownsampleWorkerInit,
    private readonly frameBytes: number,
    private readonly onFrame: (level: number, t: number, bytes: Uint8Array) => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.worker = new Worker(WORKER_URL, { workerData: init });
    this.worker.on('message', (reply: DownsampleReply) => this.receive(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (this.replies.size > 0) this.fail(new Error(`downsample worker exited with code ${code} while frames were being downsampled`));
    });
    // Only outstanding work may keep the process alive.
    this.worker.unref();
  }

  /** Hands a level-0 frame to the worker; resolves once it has a slot (immediately while one is free). */
  async add(bytes: Uint8Array): Promise<void> {
    const slot = await this.takeSlot();
    new Uint8Array(slot, 0, bytes.byteLength).set(bytes);
    this.send({ kind: 'frame', id: this.nextId++, slot, byteLength: bytes.byteLength }, slot);
  }

  /** Flushes frames left unpaired; resolves after every pyramid frame has been handed to onFrame. */
  finish(): Promise<void> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.replies.set(id, { resolve, reject });
      this.post({ kind: 'finish', id });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private takeSlot(): Promise<SharedArrayBuffer> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    if (this.slotsMade < SLOTS) {
      this.slotsMade++;
      return Promise.resolve(new SharedArrayBuffer(this.frameBytes));
    }
    return new Promise((resolve, reject) =>
      this.waiting.push(() => (this.failure ? reject(this.failure) : resolve(this.free.pop()!))),
    );
  }

  private send(request: DownsampleRequest, slot: SharedArrayBuffer): void {
    this.replies.set(request.id, { slot, resolve: () => undefined, reject: () => undefined });
    this.post(request);
  }

  private post(request: DownsampleRequest): void {
    if (this.replies.size === 1) this.worker.ref();
    this.worker.postMessage(request);
  }

  private receive(reply: DownsampleReply): void {
    const pending = this.replies.get(reply.id);
    this.replies.delete(reply.id);
    if (this.replies.size === 0) this.worker.unref();
    if (reply.kind === 'error') {
      this.fail(new Error(`downsampling failed: ${reply.message}`));
      return;
    }
    for (const frame of reply.frames) this.onFrame(frame.level, frame.t, new Uint8Array(frame.buffer));
    if (pending?.slot) {
      this.free.push(pending.slot);
      this.waiting.shift()?.();
    }
    pending?.resolve();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const pending of this.replies.values()) pending.reject(error);
    this.replies.clear();
    for (const wake of this.waiting.splice(0)) wake();
    this.onError(error);
  }
}
