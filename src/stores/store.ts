import type { Bytes } from '../messages.js';
import { describeValue } from '../util/describe-value.js';

/**
 * The small interface every store implements. A sink needs only `set` (atomic whole-value writes); stores that can
 * stream a value in parts (files, later S3 multipart uploads) also offer `createWriter`, which lets raw chunks
 * reach storage without ever being held whole in memory.
 */
export interface Store {
  /** Writes `value` under `key` atomically: readers see the old value or the whole new one, never a torn one. */
  set(key: string, value: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  /** Streams a value in appended parts; it appears under `key` only on commit(). */
  createWriter?(key: string): StoreWriter;
  /** Whether the store holds nothing yet (the overwrite check). */
  isEmpty?(): Promise<boolean>;
  /** Removes what the store holds (overwrite: true); may refuse (throw) to remove what it did not write. */
  clear?(): Promise<void>;
  /**
   * Takes the store for one writer, for the whole write: a second writer's lock() fails naming the holder. The
   * sink calls it first, before the emptiness check, and unlock() as its very last step.
   */
  lock?(): Promise<void>;
  /** Releases the lock lock() took; does nothing when it holds none. */
  unlock?(): Promise<void>;
  /**
   * Writes `value` under `key` only if nothing is there, atomically against other writers (in this process or
   * another); resolves false when the key exists. The sink creates the groups above an image at a `path` with it,
   * so it never replaces another writer's group document. Without it, a get() then set() stands in.
   */
  setIfAbsent?(key: string, value: Uint8Array): Promise<boolean>;
  /**
   * A view of the store below `path` (an image's group, the `path` option): its keys are relative to the path, and
   * its isEmpty, clear and lock concern that path only, so writers at sibling paths neither see nor block each other.
   * Without it, a path gets a PrefixedStore (stores/prefixed-store.ts): keys only, no emptiness check, clear or lock.
   */
  at?(path: string): Store;
  /** A short description for messages, e.g. the root path. */
  readonly description?: string;
}

export interface StoreWriter {
  /**
   * Appends bytes (one array, or pieces in order); may be called again before the previous append settles
   * (positions are assigned at call time). The bytes must not change until the returned promise settles.
   */
  append(data: Bytes): Promise<void>;
  /**
   * Optional: replaces bytes already appended, starting at `offset`, after every append called before it has
   * landed. It lets a value whose first bytes are known last (a Blosc chunk's header and block table) stream in
   * order. A writer without it gets such values gathered in memory instead (see `patchableWriterFor`).
   */
  overwrite?(offset: number, data: Uint8Array): Promise<void>;
  /** Pads with zeros up to `totalBytes` (when given) and publishes the value under its key. */
  commit(totalBytes?: number): Promise<void>;
  /** Discards what was appended; nothing appears under the key. */
  abort(): Promise<void>;
}

/** For stores without createWriter: gathers the parts in memory and publishes them with one set(). */
export function bufferingWriter(store: Store, key: string): StoreWriter {
  const parts: Uint8Array[] = [];
  const patches: Array<[number, Uint8Array]> = [];
  let length = 0;
  return {
    async append(data) {
      // Parts may live in reused buffers: keep a copy.
      for (const piece of data instanceof Uint8Array ? [data] : data) {
        parts.push(piece.slice());
        length += piece.byteLength;
      }
    },
    async commit(totalBytes) {
      const value = new Uint8Array(Math.max(totalBytes ?? 0, length));
      let offset = 0;
      for (const part of parts) {
        value.set(part, offset);
        offset += part.byteLength;
      }
      for (const [at, bytes] of patches) value.set(bytes, at);
      parts.length = 0;
      patches.length = 0;
      await store.set(key, value);
    },
    async overwrite(offset, data) {
      if (offset + data.byteLength > length) throw withKey(new RangeError(`overwrite of bytes ${offset}..${offset + data.byteLength} past the ${length} appended`), key);
      patches.push([offset, data.slice()]);
    },
    async abort() {
      parts.length = 0;
      patches.length = 0;
    },
  };
}

/** The store's own writer for `key`, checked to be one; a createWriter that throws or returns junk throws with the key. */
export function writerFor(store: Store, key: string): StoreWriter {
  if (!store.createWriter) return bufferingWriter(store, key);
  let writer: unknown;
  try {
    writer = store.createWriter(key);
  } catch (error) {
    throw withKey(error, key);
  }
  if (!isWriter(writer)) throw withKey(new TypeError(`createWriter returned ${describeValue(writer)}, not a writer with append, commit and abort`), key);
  return writer;
}

function isWriter(value: unknown): value is StoreWriter {
  const writer = value as StoreWriter;
  return value !== null && typeof value === 'object' && typeof writer.append === 'function' && typeof writer.commit === 'function' && typeof writer.abort === 'function';
}

/** A writer that can overwrite: the store's own when it can, else one that gathers the value in memory. */
export function patchableWriterFor(store: Store, key: string): StoreWriter {
  const writer = writerFor(store, key);
  if (writer.overwrite) return writer;
  // Nothing was appended yet: dropping the store's writer loses nothing (and nothing it throws matters).
  void attempt(key, () => writer.abort()).catch(() => undefined);
  return bufferingWriter(store, key);
}

/**
 * Calls a store method: a synchronous throw becomes a rejection, any rejection an Error naming `key`. User stores
 * may throw anything, or return a non-promise; none of it may escape as an uncaught exception.
 */
export function attempt<T>(key: string, call: () => Promise<T> | T): Promise<T> {
  try {
    return Promise.resolve(call()).catch(failWithKey(key));
  } catch (error) {
    return Promise.reject(withKey(error, key));
  }
}

export function isStore(value: unknown): value is Store {
  return value !== null && typeof value === 'object' && typeof (value as Store).set === 'function' && typeof (value as Store).get === 'function';
}

/**
 * `error`, its message prefixed once with the store key it concerns, and the key kept as `error.key`. A non-Error
 * (user stores may reject with a string, or nothing) or an Error that cannot be changed (frozen) becomes a new Error
 * with the original as its `cause`.
 */
export function withKey(error: unknown, key: string): Error & { key: string } {
  const prefix = `store key ${JSON.stringify(key)}: `;
  if (error instanceof Error) {
    const err = error as Error & { key: string };
    try {
      if (!err.message.startsWith(prefix)) err.message = prefix + err.message;
      if (err.key !== key) err.key = key;
      return err;
    } catch {
      // Frozen or read-only: wrapped below.
    }
    return Object.assign(new Error(prefix + err.message.replace(prefix, ''), { cause: error }), { key });
  }
  const text = typeof error === 'string' ? error : describeValue(error);
  return Object.assign(new Error(prefix + text, error === undefined ? undefined : { cause: error }), { key });
}

/** A rejection handler that rethrows with the key: `promise.catch(failWithKey(key))`. */
export function failWithKey(key: string): (error: unknown) => never {
  return (error) => {
    throw withKey(error, key);
  };
}
