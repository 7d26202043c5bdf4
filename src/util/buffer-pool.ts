/**
 * A bounded pool of equal-sized byte buffers. Reuse matters twice here: fresh memory is slow to touch on these
 * machines (page faults), and the bound is what turns a slow store into backpressure instead of growth.
 */
export class BufferPool {
  private readonly free: Uint8Array[] = [];
  private readonly waiters: Array<(buffer: Uint8Array) => void> = [];
  private allocated = 0;

  constructor(
    readonly bufferBytes: number,
    /** Most buffers that may exist at once; acquire() waits beyond that. */
    readonly maxBuffers: number,
    /** Makes a buffer; e.g. one over a SharedArrayBuffer, for buffers that worker threads read in place. */
    private readonly allocate: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes),
  ) {
    if (!Number.isInteger(maxBuffers) || maxBuffers < 1) throw new RangeError(`maxBuffers must be a positive integer, got ${maxBuffers}`);
  }

  /** A buffer now, or undefined when all maxBuffers are in use. Contents are stale: callers overwrite every byte. */
  tryAcquire(): Uint8Array | undefined {
    const reused = this.free.pop();
    if (reused) return reused;
    if (this.allocated < this.maxBuffers) {
      this.allocated++;
      return this.allocate(this.bufferBytes);
    }
    return undefined;
  }

  /** A buffer, waiting for a release when all are in use. */
  acquire(): Uint8Array | Promise<Uint8Array> {
    return this.tryAcquire() ?? new Promise((resolve) => this.waiters.push(resolve));
  }

  release(buffer: Uint8Array): void {
    if (buffer.byteLength !== this.bufferBytes) throw new RangeError(`released a ${buffer.byteLength}-byte buffer into a ${this.bufferBytes}-byte pool`);
    const waiter = this.waiters.shift();
    if (waiter) waiter(buffer);
    else this.free.push(buffer);
  }

  /** Buffers currently handed out. */
  get inUse(): number {
    return this.allocated - this.free.length;
  }

  /** Drops the free buffers so their memory can be collected. */
  drain(): void {
    this.allocated -= this.free.length;
    this.free.length = 0;
  }
}
