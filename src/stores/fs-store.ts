/**
 * A store over a local directory. Every value is written under a temporary name beside its final one and renamed
 * into place, so a crash never leaves a torn file under a key.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { validateKey } from './keys.js';
import { assertRealFilesystem, explainMkdirError } from './fs-checks.js';
import { withKey, type Store, type StoreWriter } from './store.js';
import { byteLengthOf, type Bytes } from '../messages.js';

let tempCounter = 0;

/** The file handle operations the store's writes use (a subset of node:fs/promises' FileHandle). */
export interface FileHandleOps {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  writev(buffers: Uint8Array[], position: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file system operations the store's writes go through: node:fs/promises by default. A seam so tests can fail
 * the k-th operation (test/helpers/faults.ts); reads and clearing use node:fs/promises directly.
 */
export interface FileOps {
  open(file: string, flags: 'w'): Promise<FileHandleOps>;
  writeFile(file: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  mkdir(dir: string, options: { recursive: true }): Promise<unknown>;
}

const NODE_FILE_OPS: FileOps = fsPromises;

export interface FileSystemStoreOptions {
  /** Replaces node:fs/promises for writes: tests use it to inject faults. */
  fs?: FileOps;
}

export class FileSystemStore implements Store {
  readonly root: string;
  private readonly madeDirs = new Set<string>();
  /** Checked once, before the first mkdir: under /proc that mkdir would never return. */
  private rootChecked: Promise<void> | undefined;
  private readonly fs: FileOps;

  constructor(root: string, options: FileSystemStoreOptions = {}) {
    if (typeof root !== 'string' || root.length === 0) throw new TypeError(`store path must be a non-empty string, got ${JSON.stringify(root)}`);
    this.root = path.resolve(root);
    this.fs = options.fs ?? NODE_FILE_OPS;
  }

  get description(): string {
    return this.root;
  }

  /** The file a key names, checked to lie inside the root. */
  resolve(key: string): string {
    const segments = validateKey(key);
    const file = path.join(this.root, ...segments);
    if (!file.startsWith(this.root + path.sep)) throw new Error(`store key ${JSON.stringify(key)} resolves outside ${this.root}`);
    return file;
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const file = this.resolve(key);
    await this.ensureDir(path.dirname(file));
    const temp = tempName(file);
    try {
      await this.fs.writeFile(temp, value);
      await this.fs.rename(temp, file);
    } catch (error) {
      await this.fs.unlink(temp).catch(() => undefined);
      throw withKey(error, key);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.resolve(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw withKey(error, key);
    }
  }

  createWriter(key: string): StoreWriter {
    const file = this.resolve(key);
    return new FileWriter(this.fs, key, file, this.ensureDir(path.dirname(file)));
  }

  async isEmpty(): Promise<boolean> {
    return FileSystemStore.isEmptySync(this.root);
  }

  async clear(): Promise<void> {
    const entries = await readdir(this.root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    await Promise.all(entries.map((entry) => rm(path.join(this.root, entry), { recursive: true, force: true })));
    this.madeDirs.clear();
  }

  /** True when `root` does not exist or is an empty directory; throws when it is a file. Synchronous so callers can refuse bad input before any stream starts. */
  static isEmptySync(root: string): boolean {
    let info;
    try {
      info = statSync(root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw error;
    }
    if (!info.isDirectory()) throw new Error(`store path ${root} exists and is not a directory`);
    return readdirSync(root).length === 0;
  }

  /** Creates the root now (synchronously), e.g. to claim it before streaming starts. */
  ensureRootSync(): void {
    mkdirSync(this.root, { recursive: true });
    this.madeDirs.add(this.root);
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await (this.rootChecked ??= assertRealFilesystem(this.root));
    await this.fs.mkdir(dir, { recursive: true }).catch(async (error: unknown) => {
      throw await explainMkdirError(dir, error);
    });
    this.madeDirs.add(dir);
  }
}

/**
 * Appends land at positions assigned when append() is called, so concurrent appends need no queue. The first failed
 * write is kept: a writer that has failed refuses further appends and commits, and is only ever aborted.
 */
class FileWriter implements StoreWriter {
  private readonly temp: string;
  private readonly handle: Promise<FileHandleOps>;
  private readonly pending = new Set<Promise<unknown>>();
  private position = 0;
  private failure: Error | undefined;

  constructor(
    private readonly fs: FileOps,
    private readonly key: string,
    private readonly file: string,
    dirReady: Promise<void>,
  ) {
    this.temp = tempName(file);
    this.handle = dirReady.then(() => fs.open(this.temp, 'w'));
    // An open failure surfaces through append/commit; don't let it also be unhandled.
    this.handle.catch(() => undefined);
  }

  append(data: Bytes): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const at = this.position;
    this.position += byteLengthOf(data);
    return this.track(this.handle.then((fh) => writeAllAt(fh, data, at)));
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
      await fh.close();
      await this.fs.rename(this.temp, this.file);
    } catch (error) {
      this.failure ??= withKey(error, this.key);
      // A failed append or commit must not leave the temporary file behind.
      await this.abort();
      throw this.failure;
    }
  }

  async abort(): Promise<void> {
    this.failure ??= withKey(new Error('aborted'), this.key);
    await Promise.allSettled(this.pending);
    const fh = await this.handle.catch(() => undefined);
    await fh?.close().catch(() => undefined);
    await this.fs.unlink(this.temp).catch(() => undefined);
  }
}

/** Writes all of `data` at `position`: pieces in one gathered write, resumed where a short write stopped. */
async function writeAllAt(fh: FileHandleOps, data: Bytes, position: number): Promise<void> {
  let pieces = data instanceof Uint8Array ? [data] : [...data];
  let at = position;
  while (pieces.length > 0) {
    const { bytesWritten } = pieces.length === 1 ? await fh.write(pieces[0]!, 0, pieces[0]!.byteLength, at) : await fh.writev(pieces, at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (pieces.length > 0 && skip >= pieces[0]!.byteLength) skip -= pieces.shift()!.byteLength;
    if (skip > 0) pieces[0] = pieces[0]!.subarray(skip);
  }
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${tempCounter++}.partial`);
}
