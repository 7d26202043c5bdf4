/**
 * A worker_threads pool that Blosc-compresses chunks off the main thread.
 *
 * Buffers move, they are not copied: the raw chunk's ArrayBuffer is transferred to a worker and transferred back
 * (the caller gets it as `raw` to reuse or release), and the compressed bytes are written into an output buffer
 * the pool lends and recycles once the caller calls `release()` - after the sink has written them. Allocating
 * fresh 32-64 MiB buffers per chunk costs more than compressing them on machines where new pages fault slowly.
 * Output buffers are SharedArrayBuffers, shared with the worker rather than transferred: measured with 32 MiB
 * chunks, transferring the output buffer there and back cost ~4 ms per chunk (about 15% of an lz4 compress),
 * sharing costs nothing.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BLOSC_MAX_OVERHEAD, validateBloscOptions, type BloscSettings } from './blosc-settings.js';
import type { CompressJob, CompressReply, WorkerInit } from './compress-protocol.js';
import { resolveEngineName, type EngineName, type EnginePreference } from './engine.js';

export interface CompressPoolOptions {
  /** Worker threads; default os.availableParallelism(). */
  workers?: number;
  engine?: EnginePreference;
  /** Idle output buffers kept for reuse; default 2 per worker. */
  maxIdleBuffers?: number;
}

export interface CompressResult {
  /** The Blosc chunk: a view of a pooled SharedArrayBuffer, valid until release(). fs writes accept it as is. */
  data: Uint8Array;
  /** The raw chunk, back from the worker: the same memory as passed in (transferred twice, so a new ArrayBuffer object). */
  raw: Uint8Array;
  /** Returns `data`'s buffer to the pool; call once, after the bytes are written. Not calling it only costs reuse. */
  release(): void;
}

interface Pending {
  job: CompressJob;
  transfer: ArrayBuffer[];
  resolve(result: CompressResult): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  busy: Pending | null;
}

const WORKER_URL = new URL('./compress-worker.js', import.meta.url);

export class CompressPool {
  readonly engineName: EngineName;
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly idleBuffers: SharedArrayBuffer[] = [];
  private readonly maxIdleBuffers: number;
  private nextId = 1;
  private closed = false;
  private failure: Error | null = null;
  private drained: (() => void) | null = null;

  constructor(options: CompressPoolOptions = {}) {
    const workers = options.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`workers must be a positive integer, got ${String(workers)}`);
    }
    this.engineName = resolveEngineName(options.engine ?? 'auto');
    this.size = workers;
    this.maxIdleBuffers = options.maxIdleBuffers ?? 2 * workers;
  }

  /** Starts the workers with the first job, so a pool (a chain) that is built and never used starts no thread. */
  private spawn(): void {
    const init: WorkerInit = { engine: this.engineName };
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(WORKER_URL, { workerData: init });
      const slot: Slot = { worker, busy: null };
      worker.on('message', (reply: CompressReply) => this.onReply(slot, reply));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`compress worker exited unexpectedly with code ${code}`));
      });
      // Idle workers must not keep the process alive; a busy one is ref'd until its reply arrives.
      worker.unref();
      this.slots.push(slot);
    }
  }

  /** Jobs waiting for a worker plus jobs being compressed. */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.busy).length;
  }

  /**
   * Compresses `raw` on a worker. `raw`'s ArrayBuffer is transferred, so `raw` and every other view of that
   * buffer stay detached (length 0) from now on: use `result.raw`, the same memory, afterwards. Input backed by a
   * SharedArrayBuffer is read in place instead and must not change until the promise settles.
   */
  compress(raw: Uint8Array, settings: BloscSettings, options: { outBytes?: number; blocked?: boolean } = {}): Promise<CompressResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('CompressPool is closed'));
    const s = validateBloscOptions(settings);
    // More room than input + 16 lets c-blosc store an incompressible stream raw inside its block rather than
    // turning the whole output into a plain copy (segments compressed for assembly need real blocks).
    const out = this.takeBuffer(Math.max(raw.byteLength + BLOSC_MAX_OVERHEAD, options.outBytes ?? 0));
    const job: CompressJob = { id: this.nextId++, raw: raw.buffer, offset: raw.byteOffset, length: raw.byteLength, out, settings: s, blocked: options.blocked ?? false };
    const transfer = raw.buffer instanceof ArrayBuffer ? [raw.buffer] : [];
    return new Promise<CompressResult>((resolve, reject) => {
      this.queue.push({ job, transfer, resolve, reject });
      this.dispatch();
    });
  }

  /** Waits for queued and running jobs, then stops the workers. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.pending > 0 && !this.failure) await new Promise<void>((resolve) => (this.drained = resolve));
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.idleBuffers.length = 0;
  }

  private takeBuffer(minBytes: number): SharedArrayBuffer {
    // The smallest that fits: whole chunks and segments of chunks may share the pool.
    let best = -1;
    this.idleBuffers.forEach((b, i) => {
      if (b.byteLength >= minBytes && (best < 0 || b.byteLength < this.idleBuffers[best]!.byteLength)) best = i;
    });
    if (best >= 0) return this.idleBuffers.splice(best, 1)[0]!;
    return new SharedArrayBuffer(minBytes);
  }

  private giveBack(buffer: SharedArrayBuffer): void {
    if (this.closed || this.idleBuffers.length >= this.maxIdleBuffers) return;
    this.idleBuffers.push(buffer);
  }

  private dispatch(): void {
    if (this.slots.length === 0) this.spawn();
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy) continue;
      const next = this.queue.shift()!;
      slot.busy = next;
      slot.worker.ref();
      try {
        slot.worker.postMessage(next.job, next.transfer);
      } catch (err) {
        // e.g. a Buffer from Node's internal pool cannot be transferred; say which input to fix.
        slot.busy = null;
        slot.worker.unref();
        next.reject(new Error(`raw chunk could not be sent to a worker (it must own a transferable ArrayBuffer): ${(err as Error).message}`));
      }
    }
  }

  private onReply(slot: Slot, reply: CompressReply): void {
    const pending = slot.busy;
    slot.busy = null;
    slot.worker.unref();
    if (pending && pending.job.id === reply.id) {
      const raw = new Uint8Array(reply.raw, pending.job.offset, pending.job.length);
      const out = pending.job.out;
      if ('error' in reply) {
        this.giveBack(out);
        pending.reject(Object.assign(new Error(`blosc compression failed: ${reply.error}`), { raw }));
      } else {
        let released = false;
        pending.resolve({
          data: new Uint8Array(out, 0, reply.bytes),
          raw,
          release: () => {
            if (released) return;
            released = true;
            this.giveBack(out);
          },
        });
      }
    }
    this.dispatch();
    if (this.drained && this.pending === 0) this.drained();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const slot of this.slots) {
      slot.busy?.reject(err);
      slot.busy = null;
      slot.worker.unref();
    }
    for (const p of this.queue.splice(0)) p.reject(err);
    this.drained?.();
  }
}
