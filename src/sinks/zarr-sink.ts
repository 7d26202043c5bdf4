/**
 * ZarrSink: the Writable end of a pipeline. Writes chunks (whole or in parts) through a Store, and keeps each
 * array's metadata true to what is on disk: written at the start with 0 frames, rewritten each time a chunk row is
 * complete, and finalized with the exact frame count at the end. A reader that opens the store mid-acquisition, or
 * after a failure, sees exactly the frames whose chunks are all there.
 */
import { Writable } from 'node:stream';
import type { ArrayLayout } from '../chunking/layout.js';
import { rowGeometry } from '../chunking/shards.js';
import { byteLengthOf, type ChunkMessage, type ChunkPartMessage, type SinkMessage } from '../messages.js';
import {
  chunkKey,
  encodeJson,
  metadataKeys,
  RAW_CODECS,
  v2ArrayMetadata,
  v3ArrayMetadata,
  type CodecMetadata,
  type ZarrVersion,
} from '../metadata/zarr.js';
import { attempt, patchableWriterFor, withKey, writerFor, type Store, type StoreWriter } from '../stores/store.js';
import { imagePathProblem, storeAt } from '../stores/prefixed-store.js';
import type { JsonObject } from '../metadata/attributes.js';
import { MetadataPublisher } from './metadata-publisher.js';
import { attachErrors, type SinkListener, type ZarrSinkEvents } from './sink-events.js';

export type { SinkListener, ZarrSinkEvents } from './sink-events.js';
import { GroupMetadata } from './group-metadata.js';
import { ensureParentGroups } from './parent-groups.js';
import { ShardPacker } from './shard-packer.js';

export interface ZarrSinkOptions {
  store: Store;
  zarrVersion: ZarrVersion;
  /** One layout per pyramid level, indexed by level; level l is array `l` of the root group. */
  layouts: readonly ArrayLayout[];
  codecs?: CodecMetadata;
  /** The image group's OME-NGFF attributes: v2 `.zattrs`, v3 `zarr.json` attributes. */
  rootAttributes?: Record<string, unknown>;
  /** Custom attributes of the image group, beside the OME ones (validated: options.ts, metadata/attributes.ts). */
  attributes?: JsonObject;
  /**
   * Where the image goes: a group at this path below the store's root ('pos0', 'A/1/0'), the groups above it made
   * where absent. The sink then writes through the store's view of the path (`store.at`, else a PrefixedStore), and
   * its lock, emptiness check and overwrite concern that path only. Default: the root.
   */
  path?: string;
  /** Replace what a non-empty store holds; otherwise a non-empty store is an error. */
  overwrite?: boolean;
  /** Store operations in flight at once before the sink pushes back. Default 8. */
  maxConcurrentWrites?: number;
  /**
   * Messages queued before the sink pushes back. Default: one frame's tiles, right for chunk parts; whole chunks
   * are large, and a compressed chain sets 1.
   */
  highWaterMark?: number;
}

export interface SinkProgress {
  /** Frames of each level whose chunks are all stored and whose metadata on disk says so. */
  frames: number[];
  chunks: number;
  /** Chunk or shard files (values) stored: `chunks` unless the arrays are sharded. */
  files: number;
  /** Bytes handed to the store (encoded chunk bytes; zero padding of short raw chunks not counted). */
  bytes: number;
  /** Raw size of the chunks stored (full chunk shape, padding included): `chunkBytes / bytes` is the compression ratio. */
  chunkBytes: number;
}

interface LevelProgress {
  /** What a row is: a chunk row, or a shard row when the level is sharded (chunking/shards.ts). */
  geometry: ReturnType<typeof rowGeometry>;
  /** Committed values (chunks, or shards) of each row not yet complete. */
  rows: Map<number, number>;
  completeRows: number;
  /** Frames covered by the committed chunks: max of row * framesPerChunk + frames. */
  framesSeen: number;
  /** The array's metadata: rewritten to the newest count of complete frames, one write at a time. */
  metadata: MetadataPublisher;
}

/** A chunk being streamed to a store writer in parts. */
interface ChunkWrite {
  key: string;
  writer: StoreWriter;
  /** Every call made on the writer: the last part waits for all of them before it commits. */
  calls: Array<Promise<void>>;
  /** The writer's first failure: from then on it gets no call but abort(). */
  failure?: Error;
  /** Bytes the writer has taken so far. */
  bytes: number;
}

export class ZarrSink extends Writable {
  /** The store the image is written to: the one given, or its view below `path`. */
  readonly store: Store;
  /** The image's path below the store's root; undefined for the root itself. */
  readonly path: string | undefined;
  /** The store as given: the groups above `path` are written there. */
  private readonly rootStore: Store;
  /** The image group's attributes and the per-frame metadata, rewritten as the arrays' metadata advance. */
  private readonly group: GroupMetadata;
  readonly zarrVersion: ZarrVersion;
  readonly layouts: readonly ArrayLayout[];
  readonly codecs: CodecMetadata;
  /**
   * Resolves once the sink has settled after it finished or was destroyed: final metadata written (as far as the
   * store let it be) and every unfinished chunk aborted. The chain's other stages close only after it
   * (sinks/close-after-sink.ts), so pipeline() settles with the store final.
   */
  readonly settled: Promise<void>;
  private readonly rootAttributes: Record<string, unknown>;
  private readonly overwrite: boolean;
  private readonly maxConcurrent: number;
  private readonly levels: LevelProgress[];
  private readonly writers = new Map<string, ChunkWrite>();
  /** Streams sharded levels' chunks into their shards' writers, committing each shard once complete. */
  private readonly packer: ShardPacker;
  private readonly inflight = new Set<Promise<void>>();
  private waiting: ((error?: Error | null) => void) | undefined;
  private markSettled!: () => void;
  /** Whether start-up completed: only then is there metadata to bring up to date at the end. */
  private started = false;
  /** While frames stream, a failed metadata write is retried with the next update and reported as a warning. */
  private streaming = false;
  /** The store's opening (lock, emptiness check, start-up metadata), begun by the first write or the end. */
  private starting: Promise<void> | undefined;
  private chunks = 0;
  private files = 0;
  private bytes = 0;
  private chunkBytes = 0;

  constructor(options: ZarrSinkOptions) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? options.layouts[0]?.tilesPerFrame ?? 1 });
    const pathProblem = options.path === undefined ? undefined : imagePathProblem(options.path);
    if (pathProblem) throw new TypeError(`path must be ${pathProblem}, got ${JSON.stringify(options.path)}`);
    this.rootStore = options.store;
    this.path = options.path;
    this.store = options.path === undefined ? options.store : storeAt(options.store, options.path);
    this.zarrVersion = options.zarrVersion;
    this.layouts = options.layouts;
    this.codecs = options.codecs ?? RAW_CODECS;
    this.rootAttributes = options.rootAttributes ?? {};
    this.overwrite = options.overwrite ?? false;
    this.maxConcurrent = options.maxConcurrentWrites ?? 8;
    this.settled = new Promise((resolve) => (this.markSettled = resolve));
    this.packer = new ShardPacker(options.layouts);
    const failed = (error: unknown): void => {
      if (!this.streaming) return;
      const message = `${(error as Error).message} (the metadata write is retried with the next update)`;
      // Like the option warnings (zarr-transforms.ts): not lost when nobody listens.
      if (this.listenerCount('warning') > 0) this.emit('warning', message);
      else process.emitWarning(message, 'ZarrStreamWarning');
    };
    this.group = new GroupMetadata(this.store, this.zarrVersion, this.rootAttributes, options.attributes ?? {}, () => this.visibleCameraFrames(), { written: () => undefined, failed });
    this.levels = options.layouts.map((layout) => ({
      geometry: rowGeometry(layout),
      rows: new Map(),
      completeRows: 0,
      framesSeen: 0,
      metadata: new MetadataPublisher((frames) => this.writeArrayMetadata(layout, frames), {
        // Progress reports frames once the metadata shows them, so a listener may open the store right away.
        // The group's attributes and frame metadata follow each array update (once the start-up wrote the group).
        written: () => {
          this.emit('progress', this.progress);
          if (this.started) void this.group.update();
        },
        failed,
      }),
    }));
  }

  /**
   * Sets a custom attribute of the image group (stage positions, acquisition settings), at any time while writing:
   * validated at once (a reserved key such as `ome`, or a value that is not JSON, throws naming the key), kept as a
   * copy, and written with the next metadata update (as chunk rows complete) and in the final metadata.
   */
  setAttributes(key: string, value: unknown): void {
    if (this.writableFinished || this.destroyed) throw new Error(`setAttributes(${JSON.stringify(key)}): the sink has ${this.destroyed ? 'closed' : 'finished'}; the attribute would not be written`);
    this.group.set(key, value);
  }

  /** Keeps level-0 frame `t`'s metadata for the image's frame_metadata array (the Downsampler hands it over). */
  addFrameMetadata(t: number, metadata: unknown): void {
    this.group.frameLog.add(t, metadata);
  }

  /**
   * Level-0 frames (as the source gave them) that the level-0 metadata covers: its steps of the append dimension
   * times the frames of a step (N-D arrays; positions of a last partial step no frame reached count, as fill).
   */
  private visibleCameraFrames(): number {
    const steps = Math.max(0, this.levels[0]?.metadata.visible ?? 0);
    return steps * (this.layouts[0]?.framesPerStep ?? 1);
  }

  get progress(): SinkProgress {
    return { frames: this.levels.map((level) => Math.max(0, level.metadata.visible)), chunks: this.chunks, files: this.files, bytes: this.bytes, chunkBytes: this.chunkBytes };
  }

  override _write(message: SinkMessage, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.started) return void this.open().then(() => (this.destroyed ? callback() : this._write(message, encoding, callback)), callback);
    const operation = this.packer.isSharded(message.level) ? this.writeShards(() => this.packer.add(message)) : message.kind === 'chunk' ? this.writeChunk(message) : this.writePart(message);
    this.inflight.add(operation);
    const settled = (error?: Error): void => {
      this.inflight.delete(operation);
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(error);
      else if (error) this.destroy(error);
    };
    operation.then(() => settled(), settled);
    // Up to maxConcurrent operations run at once; past that, the callback (and so the pipeline) waits.
    if (this.inflight.size < this.maxConcurrent) callback();
    else this.waiting = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.started) return void this.open().then(() => (this.destroyed ? callback() : this._final(callback)), callback);
    // Shards that the stream ended inside of (a partial last shard along t) are written before the final count.
    this.writeShards(() => this.packer.rest())
      .then(() => this.finish())
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Runs after _final too (autoDestroy): the one place where the sink's end is settled.
    this.settle(error).then(callback, callback);
  }

  /**
   * Brings the store to its final state and returns the error to end with: started writes settle, unfinished chunks
   * are aborted (their temporaries removed), and the metadata is written for the complete rows. Never rejects: the
   * store's own errors on the way are attached to `error` (see attachErrors).
   */
  private async settle(error: Error | null): Promise<Error | null> {
    this.streaming = false;
    this.packer.clear();
    const problems: unknown[] = [];
    await Promise.allSettled(this.inflight);
    const unfinished = [...this.writers.values()];
    this.writers.clear();
    for (const result of await Promise.allSettled(unfinished.map((chunk) => attempt(chunk.key, () => chunk.writer.abort())))) {
      if (result.status === 'rejected') problems.push(result.reason);
    }
    const flushes = this.started ? this.levels.map((level) => level.metadata.flush()) : [];
    for (const result of await Promise.allSettled(flushes)) {
      if (result.status === 'rejected' && !problems.includes(result.reason)) problems.push(result.reason);
    }
    // After the arrays': the frame metadata claims no frame their metadata does not show.
    if (this.started) {
      await this.group.flush().catch((groupError: unknown) => {
        if (!problems.includes(groupError)) problems.push(groupError);
      });
    }
    // The lock goes last, after the final metadata, and before the stages are let go.
    await this.unlock().catch((unlockError: unknown) => problems.push(unlockError));
    this.markSettled();
    return attachErrors(error, problems);
  }

  /**
   * Opens the store when the first message arrives or the stream ends, not at construction: a chain that is built
   * and never run touches nothing (Node would call _construct right away).
   */
  private open(): Promise<void> {
    this.starting ??= this.start();
    return this.starting;
  }

  /** Releases the store's lock, once the start-up (which takes it) has settled. */
  private async unlock(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.store.unlock?.();
  }

  private async start(): Promise<void> {
    const { store } = this;
    await store.lock?.();
    if (store.isEmpty && !(await store.isEmpty())) {
      if (!this.overwrite) throw new Error(`store ${store.description ?? ''} is not empty; pass overwrite: true (--overwrite) to replace it`.replace('  ', ' '));
      if (!store.clear) throw new Error(`store ${store.description ?? ''} is not empty and cannot be cleared`);
      await store.clear();
    }
    if (this.path !== undefined) await ensureParentGroups(this.rootStore, this.path, this.zarrVersion);
    // Arrays first: the group's multiscales metadata names them, and must never name one that has no metadata.
    for (const level of this.levels) {
      level.metadata.request(0);
      await level.metadata.flush(1);
    }
    await this.group.flush(1);
    this.started = true;
    this.streaming = true;
  }

  private setMetadata(key: string, document: unknown): Promise<void> {
    return attempt(key, () => this.store.set(key, encodeJson(document)));
  }

  private writeArrayMetadata(layout: ArrayLayout, frames: number): Promise<void> {
    const document = this.zarrVersion === 2 ? v2ArrayMetadata(layout, frames, this.codecs) : v3ArrayMetadata(layout, frames, this.codecs);
    return this.setMetadata(metadataKeys(this.zarrVersion, layout.path).array, document);
  }

  private async writeChunk(message: ChunkMessage): Promise<void> {
    const layout = this.layoutOf(message);
    const key = chunkKey(this.zarrVersion, layout.path, message.coords);
    await attempt(key, () => this.store.set(key, message.data));
    this.bytes += message.data.byteLength;
    message.release?.();
    this.chunkStored(message.level, message.coords[0], message.frames);
  }

  private async writePart(part: ChunkPartMessage): Promise<void> {
    const layout = this.layoutOf(part);
    const key = chunkKey(this.zarrVersion, layout.path, part.coords);
    if (part.region) throw new Error(`chunk ${key}: a part that names a tile region reached the sink; use ChunkAccumulator mode 'parts' for raw chunks`);
    let chunk = this.writers.get(key);
    if (!chunk) {
      if (part.offset !== 0 && !part.complete) throw new Error(`chunk ${key}: first part starts at byte ${part.offset}, not 0`);
      chunk = { key, writer: NO_WRITER, calls: [], bytes: 0 };
      this.writers.set(key, chunk);
      try {
        chunk.writer = part.encoded ? patchableWriterFor(this.store, key) : writerFor(this.store, key);
      } catch (error) {
        // Remembered, so the chunk's later parts fail too instead of starting a writer mid-chunk.
        throw (chunk.failure = withKey(error, key));
      }
    }
    const length = byteLengthOf(part.data);
    const appended = length > 0 ? this.call(chunk, length, (writer) => writer.append(part.data)) : Promise.resolve();
    if (!part.complete) {
      try {
        await appended;
      } finally {
        part.release?.();
      }
      return;
    }
    const { totalBytes, frames, head, chunks } = part.complete;
    // Parts of a chunk are appended concurrently: commit only once every one of them has landed.
    await Promise.allSettled([appended, ...chunk.calls]);
    part.release?.();
    if (chunk.failure) throw chunk.failure;
    if (head) {
      if (!chunk.writer.overwrite) throw (chunk.failure = withKey(new Error(`its header comes last, but the store's writer cannot overwrite`), key));
      await this.call(chunk, 0, (writer) => writer.overwrite!(0, head));
    }
    await this.call(chunk, 0, (writer) => writer.commit(totalBytes));
    this.writers.delete(key);
    this.bytes += chunk.bytes;
    this.chunkStored(part.level, part.coords[0], frames, chunks);
  }

  /**
   * Writes the shard parts that `pack` gives: whole chunks appended to their shard's writer (a temporary), and a
   * shard's closing part (index and commit, which renames it into place).
   */
  private async writeShards(pack: () => ChunkPartMessage[]): Promise<void> {
    await Promise.all(pack().map((shard) => this.writePart(shard)));
  }

  /** One call on a chunk's writer, unless the writer has failed: then only abort() (in settle) may follow. */
  private call(chunk: ChunkWrite, bytes: number, method: (writer: StoreWriter) => Promise<void>): Promise<void> {
    if (chunk.failure) return Promise.reject(chunk.failure);
    const call = attempt(chunk.key, () => method(chunk.writer)).then(
      () => void (chunk.bytes += bytes),
      (error: Error) => {
        chunk.failure ??= error;
        throw error;
      },
    );
    chunk.calls.push(call.catch(() => undefined));
    return call;
  }

  private layoutOf(message: SinkMessage): ArrayLayout {
    const layout = this.layouts[message.level];
    if (!layout) throw new RangeError(`chunk of level ${message.level}: the dataset has ${this.layouts.length} levels`);
    return layout;
  }

  /** A value is stored: a chunk, or a shard of `chunks` chunks; `row` is its first coordinate, a chunk or shard row. */
  private chunkStored(level: number, row: number, frames: number, chunks = 1): void {
    const layout = this.layouts[level]!;
    const state = this.levels[level]!;
    const { framesPerRow, valuesPerRow } = state.geometry;
    this.chunks += chunks;
    this.files++;
    this.chunkBytes += chunks * layout.chunkBytes;
    state.framesSeen = Math.max(state.framesSeen, row * framesPerRow + frames);
    state.rows.set(row, (state.rows.get(row) ?? 0) + 1);
    let advanced = false;
    while (state.rows.get(state.completeRows) === valuesPerRow) {
      state.rows.delete(state.completeRows);
      state.completeRows++;
      advanced = true;
    }
    // A new count is written when the write in flight (if any) is done; 'progress' follows the write.
    if (advanced) void state.metadata.request(Math.min(state.completeRows * framesPerRow, state.framesSeen));
    else this.emit('progress', this.progress);
  }

  private async finish(): Promise<void> {
    await Promise.all(this.inflight);
    if (this.writers.size > 0) throw new Error(`stream ended with ${this.writers.size} chunk(s) incomplete, e.g. ${this.writers.keys().next().value}`);
    this.streaming = false;
    await Promise.all(
      this.levels.map((state, level) => {
        if (state.rows.size > 0) throw new Error(`level ${level}: chunk row ${[...state.rows.keys()][0]} is incomplete at the end of the stream`);
        state.metadata.request(state.framesSeen);
        return state.metadata.flush();
      }),
    );
    await this.group.flush();
    // Each metadata write reported its progress as it landed: the final counts too, once, if they changed.
  }
}

/** Stands in for a writer the store failed to create: there is nothing to abort. */
const NO_WRITER: StoreWriter = {
  append: () => Promise.reject(new Error('no writer')),
  commit: () => Promise.reject(new Error('no writer')),
  abort: () => Promise.resolve(),
};

/** Typed listeners: a misspelt event or a listener of the wrong shape does not compile (test/sink-events.typecheck.ts). */
export interface ZarrSink {
  on<E extends keyof ZarrSinkEvents>(event: E, listener: SinkListener<E>): this;
  once<E extends keyof ZarrSinkEvents>(event: E, listener: SinkListener<E>): this;
  off<E extends keyof ZarrSinkEvents>(event: E, listener: SinkListener<E>): this;
  addListener<E extends keyof ZarrSinkEvents>(event: E, listener: SinkListener<E>): this;
  removeListener<E extends keyof ZarrSinkEvents>(event: E, listener: SinkListener<E>): this;
  prependListener<E extends keyof ZarrSinkEvents>(event: E, listener: SinkListener<E>): this;
  emit<E extends keyof ZarrSinkEvents>(event: E, ...args: ZarrSinkEvents[E]): boolean;
}
