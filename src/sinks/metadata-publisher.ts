/**
 * One array's metadata kept true to the newest frame count: at most one rewrite in flight, requests made while one
 * is in flight coalesce into a single write of the newest count, and a failed write is retried by the next request
 * (or by flush()), so a moment of ENOSPC does not freeze the metadata behind the chunks.
 */
export interface PublisherEvents {
  /** The value on the store now shows `frames` frames. */
  written(frames: number): void;
  /** A write failed; the newest count is written again on the next request or flush. */
  failed(error: unknown): void;
}

export class MetadataPublisher {
  private wanted = -1;
  private written = -1;
  private running: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly write: (frames: number) => Promise<void>,
    private readonly events: PublisherEvents,
  ) {}

  /** The frame count the store shows (-1 before the first write). */
  get visible(): number {
    return this.written;
  }

  /** The newest count asked for. */
  get requested(): number {
    return this.wanted;
  }

  /** Asks for `frames` to be written; resolves when the writes in flight have stopped (written or failed). */
  request(frames: number): Promise<void> {
    this.wanted = frames;
    if (this.wanted === this.written && !this.running) return Promise.resolve();
    this.running ??= this.run();
    return this.running;
  }

  /** Writes the newest count, trying `attempts` times; rejects with the last failure if none succeeds. */
  async flush(attempts = 2): Promise<void> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      await this.request(this.wanted);
      if (this.written === this.wanted) return;
    }
    throw this.failure;
  }

  private async run(): Promise<void> {
    // Entered only with wanted !== written, so the loop awaits at least once before `running` is cleared: a request
    // made between two writes always finds the loop still running, or starts a new one.
    for (;;) {
      const frames = this.wanted;
      try {
        await this.write(frames);
      } catch (error) {
        this.failure = error;
        this.running = undefined;
        this.events.failed(error);
        return;
      }
      this.written = frames;
      this.failure = undefined;
      const done = this.wanted === this.written;
      if (done) this.running = undefined;
      this.events.written(frames);
      if (done) return;
    }
  }
}
