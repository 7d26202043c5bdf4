/**
 * S3Writer: a value streamed to S3 as a multipart upload. Appends are copied into a part buffer at call time (so
 * concurrent appends need no queue); each full part is uploaded, and the append that filled it resolves once it is
 * up: a slow network slows the source. The first part is held until commit, so overwrite() can still patch the
 * value's first bytes (a streamed Blosc chunk's header comes last; S3 parts may be uploaded in any order). A value
 * that never fills two parts is one PutObject at commit. abort(), or a failed commit, aborts the multipart upload:
 * nothing half-written appears under the key.
 *
 * Memory: at most two part buffers per writer (the held first part and the one filling; a value smaller than a part
 * holds only its own bytes), plus the parts waiting for an upload slot.
 */
import type { Bytes } from '../messages.js';
import { withKey, type StoreWriter } from './store.js';
import { Semaphore } from '../util/semaphore.js';

/** S3's minimum part size (all parts but the last). */
export const MIN_PART_BYTES = 5 * 2 ** 20;
/** Part uploads in flight at once for one writer (the store bounds them all together too). */
const UPLOADS_PER_WRITER = 2;
const ZEROS = new Uint8Array(64 * 1024);

/** What a writer needs of its store: the object's requests (each naming bucket and key when it fails) and part buffers. */
export interface S3WriterHost {
  readonly partBytes: number;
  put(body: Uint8Array): Promise<void>;
  createUpload(): Promise<string>;
  uploadPart(uploadId: string, partNumber: number, body: Uint8Array): Promise<string>;
  completeUpload(uploadId: string, parts: Array<{ PartNumber: number; ETag: string }>): Promise<void>;
  abortUpload(uploadId: string): Promise<void>;
  /** A part buffer (partBytes long), reused when one is free. */
  takeBuffer(): Uint8Array;
  giveBuffer(buffer: Uint8Array): void;
}

export class S3Writer implements StoreWriter {
  /** The full first part, held until commit. */
  private first: Uint8Array | undefined;
  /** The part being filled: `fill` bytes of it, starting at value offset `currentStart`; it grows up to partBytes. */
  private current: Uint8Array = new Uint8Array(0);
  private fill = 0;
  private currentStart = 0;
  private position = 0;
  private nextPart = 1;
  private uploadId: Promise<string> | undefined;
  private readonly etags = new Map<number, string>();
  private readonly pending = new Set<Promise<void>>();
  private readonly slots = new Semaphore(UPLOADS_PER_WRITER);
  private failure: Error | undefined;

  constructor(
    private readonly key: string,
    private readonly host: S3WriterHost,
  ) {}

  append(data: Bytes): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const uploads: Promise<void>[] = [];
    for (const piece of data instanceof Uint8Array ? [data] : data) this.copyIn(piece, uploads);
    return uploads.length === 0 ? Promise.resolve() : Promise.all(uploads).then(() => undefined);
  }

  private copyIn(piece: Uint8Array, uploads: Promise<void>[]): void {
    const { partBytes } = this.host;
    let at = 0;
    while (at < piece.byteLength) {
      this.reserve(Math.min(partBytes, this.fill + piece.byteLength - at));
      const n = Math.min(piece.byteLength - at, partBytes - this.fill);
      this.current.set(piece.subarray(at, at + n), this.fill);
      this.fill += n;
      this.position += n;
      at += n;
      if (this.fill === partBytes) uploads.push(this.partFilled());
    }
  }

  /** Makes `current` hold at least `bytes` (doubling, so small values stay small; a full part is a pooled buffer). */
  private reserve(bytes: number): void {
    if (this.current.byteLength >= bytes) return;
    const { partBytes } = this.host;
    const size = Math.min(partBytes, Math.max(bytes, 2 * this.current.byteLength, 64 * 1024));
    const grown = size === partBytes ? this.host.takeBuffer() : new Uint8Array(size);
    grown.set(this.current.subarray(0, this.fill));
    this.release(this.current);
    this.current = grown;
  }

  /** `current` is a full part: hold it (the first) or upload it. */
  private partFilled(): Promise<void> {
    const part = this.current;
    const number = this.nextPart++;
    this.current = new Uint8Array(0);
    this.fill = 0;
    this.currentStart = this.position;
    if (number === 1) {
      this.first = part;
      return Promise.resolve();
    }
    return this.upload(number, part, part.byteLength);
  }

  private upload(number: number, part: Uint8Array, length: number): Promise<void> {
    const upload = this.slots
      .run(async () => {
        const id = await (this.uploadId ??= this.host.createUpload());
        this.etags.set(number, await this.host.uploadPart(id, number, part.subarray(0, length)));
      })
      .catch((error: unknown) => {
        this.failure ??= withKey(error, this.key);
        throw this.failure;
      })
      .finally(() => this.release(part));
    this.pending.add(upload);
    const settled = (): void => void this.pending.delete(upload);
    upload.then(settled, settled);
    return upload;
  }

  private release(buffer: Uint8Array): void {
    if (buffer.byteLength === this.host.partBytes) this.host.giveBuffer(buffer);
  }

  async overwrite(offset: number, data: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    const end = offset + data.byteLength;
    if (offset < 0 || end > this.position) throw withKey(new RangeError(`overwrite of bytes ${offset}..${end} past the ${this.position} appended`), this.key);
    // Only bytes not yet uploaded can change: the held first part and the part being filled.
    const firstEnd = this.first ? this.first.byteLength : 0;
    if (offset < firstEnd) this.first!.set(data.subarray(0, Math.min(end, firstEnd) - offset), offset);
    if (end > firstEnd) {
      const from = Math.max(offset, firstEnd);
      if (from < this.currentStart) throw withKey(new RangeError(`overwrite of bytes ${offset}..${end}: bytes ${firstEnd}..${this.currentStart} are already uploaded`), this.key);
      this.current.set(data.subarray(from - offset), from - this.currentStart);
    }
  }

  async commit(totalBytes?: number): Promise<void> {
    try {
      if (this.failure) throw this.failure;
      const padding: Promise<void>[] = [];
      for (let missing = (totalBytes ?? 0) - this.position; missing > 0; missing -= ZEROS.byteLength) {
        padding.push(this.append(ZEROS.subarray(0, Math.min(missing, ZEROS.byteLength))));
      }
      await Promise.all(padding);
      await this.landed();
      if (this.nextPart === 1) {
        // Smaller than a part: one PutObject.
        await this.host.put(this.current.subarray(0, this.fill));
      } else if (this.nextPart === 2 && this.fill === 0) {
        await this.host.put(this.first!);
      } else {
        if (this.fill > 0) void this.upload(this.nextPart++, this.current, this.fill).catch(() => undefined);
        this.current = new Uint8Array(0);
        void this.upload(1, this.first!, this.first!.byteLength).catch(() => undefined);
        this.first = undefined;
        await this.landed();
        const parts = [...this.etags].sort(([a], [b]) => a - b).map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
        await this.host.completeUpload(await this.uploadId!, parts);
      }
      this.dropBuffers();
    } catch (error) {
      this.failure ??= withKey(error, this.key);
      await this.abort().catch(() => undefined);
      throw this.failure;
    }
  }

  /** Waits for every upload started so far; throws the writer's failure, if it has one. */
  private async landed(): Promise<void> {
    await Promise.allSettled(this.pending);
    if (this.failure) throw this.failure;
  }

  async abort(): Promise<void> {
    this.failure ??= withKey(new Error('aborted'), this.key);
    await Promise.allSettled(this.pending);
    this.dropBuffers();
    const id = await this.uploadId?.catch(() => undefined);
    this.uploadId = undefined;
    if (id !== undefined) await this.host.abortUpload(id).catch((error: unknown) => Promise.reject(withKey(error, this.key)));
  }

  private dropBuffers(): void {
    if (this.first) this.release(this.first);
    this.release(this.current);
    this.first = undefined;
    this.current = new Uint8Array(0);
    this.fill = 0;
  }
}
