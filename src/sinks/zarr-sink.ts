/**
 * ZarrSink: the Writable end of a pipeline. Writes chunks (whole or in parts) through a Store, and keeps each
 * array's metadata true to what is on disk: written at the start with 0 frames, rewritten each time a chunk row is
 * complete, and finalized with the exact frame count at the end. A reader that opens the store mid-acquisition, or
 * after a failure, sees exactly the frames whose chunks are all there.
 */
import { Writable } from 'node:stream';
import type { ArrayLayout } from '../chunking/layout.js';
import { byteLengthOf, type ChunkMessage, type ChunkPartMessage, type SinkMessage } from '../messages.js';
import {
  chunkKey,
  encodeJson,
  metadataKeys,
  RAW_CODECS,
  v2ArrayMetadata,
  v2GroupMetadata,
  v3ArrayMetadata,
  v3GroupMetadata,
  type CodecMetadata,
  type ZarrVersion,
} from '../metadata/zarr.js';
import { failWithKey, patchableWriterFor, withKey, writerFor, type Store, type StoreWriter } from '../stores/store.js';

export interface ZarrSinkOptions {
  store: Store;
  zarrVersion: ZarrVersion;
  /** One layout per pyramid level, indexed by level; level l is array `l` of the root group. */
  layouts: readonly ArrayLayout[];
  codecs?: CodecMetadata;
  /** Root group attributes (OME-NGFF): v2 `.zattrs`, v3 `zarr.json` attributes. */
  rootAttributes?: Record<string, unknown>;
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
  /** Bytes handed to the store (encoded chunk bytes; zero padding of short raw chunks not counted). */
  bytes: number;
  /** Raw size of the chunks stored (full chunk shape, padding included): `chunkBytes / bytes` is the compression ratio. */
  chunkBytes: number;
}

interface LevelProgress {
  /** Committed chunks of each chunk row not yet complete. */
  rows: Map<number, number>;
  completeRows: number;
  /** Frames covered by the committed chunks: max of row * framesPerChunk + frames. */
  framesSeen: number;
  published: number;
  /** Frames the metadata on disk shows (its last write finished). */
  visible: number;
  metadataWrite: Promise<void>;
}

export class ZarrSink extends Writable {
  readonly store: Store;
  readonly zarrVersion: ZarrVersion;
  readonly layouts: readonly ArrayLayout[];
  readonly codecs: CodecMetadata;
  private readonly rootAttributes: Record<string, unknown>;
  private readonly overwrite: boolean;
  private readonly maxConcurrent: number;
  private readonly levels: LevelProgress[];
  private readonly writers = new Map<string, StoreWriter>();
  private readonly inflight = new Set<Promise<void>>();
  private waiting: ((error?: Error | null) => void) | undefined;
  private starting: Promise<void> | undefined;
  private opened = false;
  private chunks = 0;
  private bytes = 0;
  private chunkBytes = 0;

  constructor(options: ZarrSinkOptions) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? options.layouts[0]?.tilesPerFrame ?? 1 });
    this.store = options.store;
    this.zarrVersion = options.zarrVersion;
    this.layouts = options.layouts;
    this.codecs = options.codecs ?? RAW_CODECS;
    this.rootAttributes = options.rootAttributes ?? {};
    this.overwrite = options.overwrite ?? false;
    this.maxConcurrent = options.maxConcurrentWrites ?? 8;
    this.levels = options.layouts.map(() => ({ rows: new Map(), completeRows: 0, framesSeen: 0, published: -1, visible: 0, metadataWrite: Promise.resolve() }));
  }

  get progress(): SinkProgress {
    return { frames: this.levels.map((level) => level.visible), chunks: this.chunks, bytes: this.bytes, chunkBytes: this.chunkBytes };
  }

  override _write(message: SinkMessage, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.opened) return void this.open().then(() => (this.destroyed ? callback() : this._write(message, encoding, callback)), callback);
    const operation = message.kind === 'chunk' ? this.writeChunk(message) : this.writePart(message);
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
    if (!this.opened) return void this.open().then(() => (this.destroyed ? callback() : this._final(callback)), callback);
    this.finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Let started writes settle, then drop unfinished chunks: their temporary files must not outlive us.
    const writers = [...this.writers.values()];
    this.writers.clear();
    Promise.allSettled(this.inflight)
      .then(() => Promise.allSettled(writers.map((writer) => writer.abort())))
      .then(() => Promise.allSettled(this.levels.map((level) => level.metadataWrite)))
      .then(() => this.unlock().catch(() => undefined))
      .then(() => callback(error));
  }

  /**
   * Opens the store when the first message arrives or the stream ends, not at construction: a chain that is built
   * and never run touches nothing (Node would call _construct right away).
   */
  private open(): Promise<void> {
    this.starting ??= this.start().then(() => {
      this.opened = true;
    });
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
    const keys = metadataKeys(this.zarrVersion, '0');
    if (this.zarrVersion === 2) {
      await store.set(keys.group, encodeJson(v2GroupMetadata()));
      await store.set(keys.groupAttributes!, encodeJson(this.rootAttributes));
    } else {
      await store.set(keys.group, encodeJson(v3GroupMetadata(this.rootAttributes)));
    }
    await Promise.all(this.layouts.map((_, level) => this.publish(level, 0)));
  }

  private async writeChunk(message: ChunkMessage): Promise<void> {
    const layout = this.layoutOf(message);
    const key = chunkKey(this.zarrVersion, layout.path, message.coords);
    await this.store.set(key, message.data).catch(failWithKey(key));
    this.bytes += message.data.byteLength;
    message.release?.();
    this.chunkStored(message.level, message.coords[0], message.frames);
  }

  private async writePart(part: ChunkPartMessage): Promise<void> {
    const layout = this.layoutOf(part);
    const key = chunkKey(this.zarrVersion, layout.path, part.coords);
    if (part.region) throw new Error(`chunk ${key}: a part that names a tile region reached the sink; use ChunkAccumulator mode 'parts' for raw chunks`);
    let writer = this.writers.get(key);
    if (!writer) {
      if (part.offset !== 0 && !part.complete) throw new Error(`chunk ${key}: first part starts at byte ${part.offset}, not 0`);
      writer = part.encoded ? patchableWriterFor(this.store, key) : writerFor(this.store, key);
      this.writers.set(key, writer);
    }
    const length = byteLengthOf(part.data);
    const appended = length > 0 ? writer.append(part.data) : Promise.resolve();
    if (part.complete) {
      this.writers.delete(key);
      const { totalBytes, frames, head } = part.complete;
      try {
        await appended;
        part.release?.();
        if (head) {
          if (!writer.overwrite) throw new Error(`its header comes last, but the store's writer cannot overwrite`);
          await writer.overwrite(0, head);
        }
        await writer.commit(totalBytes);
      } catch (error) {
        // The writer is no longer tracked for _destroy: its temporary value must go now.
        await writer.abort().catch(() => undefined);
        throw withKey(error, key);
      }
      this.bytes += length;
      this.chunkStored(part.level, part.coords[0], frames);
      return;
    }
    await appended.catch(failWithKey(key));
    this.bytes += length;
    part.release?.();
  }

  private layoutOf(message: SinkMessage): ArrayLayout {
    const layout = this.layouts[message.level];
    if (!layout) throw new RangeError(`chunk of level ${message.level}: the dataset has ${this.layouts.length} levels`);
    return layout;
  }

  private chunkStored(level: number, row: number, frames: number): void {
    const layout = this.layouts[level]!;
    const state = this.levels[level]!;
    this.chunks++;
    this.chunkBytes += layout.chunkBytes;
    state.framesSeen = Math.max(state.framesSeen, row * layout.chunk.frames + frames);
    state.rows.set(row, (state.rows.get(row) ?? 0) + 1);
    let advanced = false;
    while (state.rows.get(state.completeRows) === layout.tilesPerFrame) {
      state.rows.delete(state.completeRows);
      state.completeRows++;
      advanced = true;
    }
    if (advanced) {
      // Progress reports frames once the metadata shows them, so a listener may open the store right away.
      this.publish(level, Math.min(state.completeRows * layout.chunk.frames, state.framesSeen)).then(
        () => this.emit('progress', this.progress),
        (error: Error) => this.destroy(error),
      );
    } else {
      this.emit('progress', this.progress);
    }
  }

  /** Writes level's array metadata for `frames` frames; writes are chained so an older count never lands last. */
  private publish(level: number, frames: number): Promise<void> {
    const state = this.levels[level]!;
    if (frames === state.published) return state.metadataWrite;
    state.published = frames;
    const layout = this.layouts[level]!;
    const document = this.zarrVersion === 2 ? v2ArrayMetadata(layout, frames, this.codecs) : v3ArrayMetadata(layout, frames, this.codecs);
    const key = metadataKeys(this.zarrVersion, layout.path).array;
    state.metadataWrite = state.metadataWrite
      .then(() => this.store.set(key, encodeJson(document)))
      .catch(failWithKey(key))
      .then(() => {
        state.visible = frames;
      });
    return state.metadataWrite;
  }

  private async finish(): Promise<void> {
    await Promise.all(this.inflight);
    if (this.writers.size > 0) throw new Error(`stream ended with ${this.writers.size} chunk(s) incomplete, e.g. ${this.writers.keys().next().value}`);
    let changed = false;
    await Promise.all(
      this.levels.map((state, level) => {
        if (state.rows.size > 0) throw new Error(`level ${level}: chunk row ${[...state.rows.keys()][0]} is incomplete at the end of the stream`);
        changed ||= state.published !== state.framesSeen;
        return this.publish(level, state.framesSeen);
      }),
    );
    // When the last row's own update already reported these counts, say nothing twice.
    if (changed) this.emit('progress', this.progress);
    await this.unlock();
  }
}
