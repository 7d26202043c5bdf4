/**
 * FileWriter: a value streamed to a temporary file in appended parts, renamed under its key on commit. Appends land
 * at positions assigned when append() is called, so concurrent appends need no queue. The first failed write is
 * kept: a writer that has failed refuses further appends and commits, and is only ever aborted. When durable, the
 * file is fsynced before its rename and its directory after, so commit() resolves only once the value is on disk.
 */
import path from 'node:path';
import { byteLengthOf, type Bytes } from '../messages.js';
import { failWithKey, withKey, type StoreWriter } from './store.js';
import { tempName, writeAllAt, type FileHandleOps, type FileOps } from './file-ops.js';

/** A durable writer starts flushing its file every this many appended bytes (see syncEarly). */
const EARLY_SYNC_BYTES = 8 * 2 ** 20;

/**
 * Early flushes running at once, shared by a store's writers. An fdatasync holds one of libuv's four threads until
 * the disk has the data, and the file writes and the compressor's tile copies queue on the same threads: with a
 * flush per open chunk (16 in W2) they waited behind the disk. Commits' flushes are not limited (they are needed).
 */
export class EarlySyncGate {
  running = 0;
  constructor(readonly max = 1) {}
}

export class FileWriter implements StoreWriter {
  private temp: string | undefined;
  private file: string | undefined;
  private readonly handle: Promise<FileHandleOps>;
  private readonly pending = new Set<Promise<unknown>>();
  private position = 0;
  private failure: Error | undefined;
  /** Bytes appended when the last early flush started, and that flush while it runs (durable only). */
  private syncedTo = 0;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly fs: FileOps,
    private readonly key: string,
    /** The file the value goes to, once its directory exists. */
    target: Promise<string>,
    /** fsyncs a directory; given when the store is durable. */
    private readonly syncDir: ((dir: string) => Promise<void>) | undefined,
    /** Bounds the early flushes of all the store's writers. */
    private readonly gate = new EarlySyncGate(),
  ) {
    this.handle = target.then((file) => {
      this.file = file;
      this.temp = tempName(file);
      return fs.open(this.temp, 'w');
    });
    // An open failure surfaces through append/commit; don't let it also be unhandled.
    this.handle.catch(() => undefined);
  }

  append(data: Bytes): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const at = this.position;
    this.position += byteLengthOf(data);
    const write = this.track(this.handle.then((fh) => writeAllAt(fh, data, at)));
    if (this.syncDir && this.position - this.syncedTo >= EARLY_SYNC_BYTES && !this.syncing && this.gate.running < this.gate.max) this.syncEarly(write);
    return write;
  }

  /**
   * Starts flushing what was appended so far while the value is still being written, so that commit's fdatasync
   * finds little left to write: the disk works while the frames arrive instead of all at once at the end of a row
   * (the kernel's own writeback would start only past its dirty threshold, gigabytes on a large machine).
   */
  private syncEarly(after: Promise<void>): void {
    this.syncedTo = this.position;
    const sync = after.then(() => this.handle).then((fh) => fh.datasync());
    this.syncing = sync;
    this.gate.running++;
    const settled = (): void => {
      this.syncing = undefined;
      this.gate.running--;
    };
    sync.then(settled, settled);
    // A failed flush fails the writer (commit waits for every tracked operation).
    this.track(sync).catch(() => undefined);
  }

  async overwrite(offset: number, data: Uint8Array): Promise<void> {
    // Earlier appends may cover the same bytes (e.g. a placeholder): they must land first.
    await this.landed();
    if (offset + data.byteLength > this.position) {
      throw withKey(new RangeError(`overwrite of bytes ${offset}..${offset + data.byteLength} past the ${this.position} appended`), this.key);
    }
    return this.track(this.handle.then((fh) => writeAllAt(fh, data, offset)));
  }

  /** Keeps `write` among the writes commit() and abort() wait for until it settles, and its failure for good. */
  private track(write: Promise<void>): Promise<void> {
    const tracked = write.catch((error: unknown) => {
      this.failure ??= withKey(error, this.key);
      throw this.failure;
    });
    this.pending.add(tracked);
    const settled = (): void => void this.pending.delete(tracked);
    tracked.then(settled, settled);
    return tracked;
  }

  /** Waits for every write called so far; throws the writer's failure, if it has one. */
  private async landed(): Promise<void> {
    await Promise.allSettled(this.pending);
    if (this.failure) throw this.failure;
  }

  async commit(totalBytes?: number): Promise<void> {
    try {
      await this.landed();
      const fh = await this.handle;
      // Extending with truncate writes zeros (the fill value) without touching them in memory.
      if (totalBytes !== undefined && totalBytes > this.position) await fh.truncate(totalBytes);
      if (this.syncDir) await fh.datasync();
      await fh.close();
      await this.fs.rename(this.temp!, this.file!);
    } catch (error) {
      this.failure ??= withKey(error, this.key);
      // A failed append or commit must not leave the temporary file behind.
      await this.abort();
      throw this.failure;
    }
    // The value is under its key; it is durable once its directory entry is.
    if (this.syncDir) await this.syncDir(path.dirname(this.file!)).catch(failWithKey(this.key));
  }

  async abort(): Promise<void> {
    this.failure ??= withKey(new Error('aborted'), this.key);
    await Promise.allSettled(this.pending);
    const fh = await this.handle.catch(() => undefined);
    await fh?.close().catch(() => undefined);
    if (this.temp) await this.fs.unlink(this.temp).catch(() => undefined);
  }
}
