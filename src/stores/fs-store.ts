/**
 * A store over a local directory. Every value is written under a temporary name beside its final one and renamed
 * into place, so a crash never leaves a torn file under a key. With `durable` (the default) each value is fsynced
 * before its rename and its directory after, so a value is on disk once its set() or commit() resolves: metadata
 * written after that never claims what a power cut can take away.
 *
 * Constructing the store does no I/O: the root is resolved, locked and created when the store is first used.
 */
import { mkdir, open, readdir, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { validateKey } from './keys.js';
import { failWithKey, withKey, type Store, type StoreWriter } from './store.js';
import { DirSyncer } from './fs-durable.js';
import { acquireLock, LOCK_FILE, releaseLock } from './fs-lock.js';
import { clearZarrStore } from './fs-clear.js';
import { byteLengthOf, type Bytes } from '../messages.js';
import type { FileHandle } from 'node:fs/promises';

let tempCounter = 0;

/** A durable writer starts flushing its file every this many appended bytes (see FileWriter.syncEarly). */
const EARLY_SYNC_BYTES = 8 * 2 ** 20;

export interface FileSystemStoreOptions {
  /** fsync values and directories before a write resolves (default true); false for scratch data. */
  durable?: boolean;
}

export class FileSystemStore implements Store {
  /** The path as given; `root` is where it really is once the store has been used. */
  readonly path: string;
  readonly durable: boolean;
  private realRoot: string | undefined;
  private opening: Promise<string> | undefined;
  /** Directories known to exist (and, when durable, to be on disk), by path. */
  private readonly dirs = new Map<string, Promise<void>>();
  private readonly syncer = new DirSyncer();
  private lockFile: string | undefined;

  constructor(root: string, options: FileSystemStoreOptions = {}) {
    if (typeof root !== 'string' || root.length === 0) throw new TypeError(`store path must be a non-empty string, got ${JSON.stringify(root)}`);
    this.path = root;
    this.durable = options.durable ?? true;
  }

  /** The root directory: its real location once the store was used, until then the path as given, made absolute. */
  get root(): string {
    return this.realRoot ?? path.resolve(this.path);
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

  /**
   * Resolves the root once, as the OS resolves the path (`link/../x.zarr` is the parent of link's target, not
   * `./x.zarr`), so the checks and the writes concern the same directory.
   */
  private open(): Promise<string> {
    this.opening ??= realLocation(this.path).then(async (root) => {
      const info = await stat(root).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (info && !info.isDirectory()) throw new Error(`store path ${root} exists and is not a directory`);
      this.realRoot = root;
      return root;
    });
    return this.opening;
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    validateKey(key);
    await this.open();
    const file = this.resolve(key);
    await this.ensureDir(path.dirname(file)).catch(failWithKey(key));
    const temp = tempName(file);
    try {
      const fh = await open(temp, 'w');
      try {
        await fh.writeFile(value);
        if (this.durable) await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw withKey(error, key);
    }
    if (this.durable) await this.syncer.sync(path.dirname(file)).catch(failWithKey(key));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    validateKey(key);
    await this.open();
    try {
      return await readFile(this.resolve(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw withKey(error, key);
    }
  }

  createWriter(key: string): StoreWriter {
    validateKey(key);
    const file = this.open().then(async () => {
      const target = this.resolve(key);
      await this.ensureDir(path.dirname(target));
      return target;
    });
    return new FileWriter(key, file, this.durable ? (dir) => this.syncer.sync(dir) : undefined);
  }

  /** True when the root does not exist or holds nothing but our lock file. */
  async isEmpty(): Promise<boolean> {
    const root = await this.open();
    const entries = await readdir(root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return entries.every((entry) => entry === LOCK_FILE);
  }

  /** Removes a Zarr store's keys and our temporaries; refuses (throws) when the root holds anything else. */
  async clear(): Promise<void> {
    const root = await this.open();
    if (!(await this.isEmpty())) await clearZarrStore(root, new Set([LOCK_FILE]));
    this.dirs.clear();
    if (this.durable) await this.syncer.sync(root);
  }

  /** Takes the store's lock (creating the root): a second writer, in this process or another, fails. */
  async lock(): Promise<void> {
    const root = await this.open();
    if (this.lockFile) return;
    await this.ensureDir(root);
    this.lockFile = await acquireLock(root);
  }

  async unlock(): Promise<void> {
    const file = this.lockFile;
    if (!file) return;
    this.lockFile = undefined;
    await releaseLock(file);
  }

  /**
   * Creates `dir` (its parents first); resolves once it exists and, when durable, its entry in its parent is on
   * disk. Memoized, so a chunk never waits only for a sibling's mkdir while that one's parent fsync is pending.
   */
  private ensureDir(dir: string): Promise<void> {
    let ready = this.dirs.get(dir);
    if (!ready) {
      ready = this.makeDir(dir);
      this.dirs.set(dir, ready);
      ready.catch(() => this.dirs.delete(dir));
    }
    return ready;
  }

  private async makeDir(dir: string): Promise<void> {
    const parent = path.dirname(dir);
    if (dir === this.root || parent === dir) {
      const first = await mkdir(dir, { recursive: true });
      // Each directory mkdir made is an entry in its parent, outside the root or not.
      if (first && this.durable) {
        for (let made = dir; ; made = path.dirname(made)) {
          await this.syncer.sync(path.dirname(made));
          if (made === first) break;
        }
      }
      return;
    }
    await this.ensureDir(parent);
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw error;
    }
    if (this.durable) await this.syncer.sync(parent);
  }
}

/** `p` as the OS resolves it: the real path of its longest existing ancestor, then the rest as given. */
async function realLocation(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const parent = path.dirname(p);
  if (parent === p) return path.resolve(p);
  const base = path.basename(p);
  // A missing parent: nothing below it can be a symlink, so the rest resolves lexically.
  return base === '..' || base === '.' ? path.resolve(p) : path.join(await realLocation(parent), base);
}

/** Appends land at positions assigned when append() is called, so concurrent appends need no queue. */
class FileWriter implements StoreWriter {
  private temp: string | undefined;
  private file: string | undefined;
  private readonly handle: Promise<FileHandle>;
  private readonly pending = new Set<Promise<unknown>>();
  private position = 0;
  /** Bytes appended when the last early flush started, and that flush while it runs (durable only). */
  private syncedTo = 0;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly key: string,
    target: Promise<string>,
    /** fsyncs a directory; given when the store is durable. */
    private readonly syncDir: ((dir: string) => Promise<void>) | undefined,
  ) {
    this.handle = target.then((file) => {
      this.file = file;
      this.temp = tempName(file);
      return open(this.temp, 'w');
    });
    // An open failure surfaces through append/commit; don't let it also be unhandled.
    this.handle.catch(() => undefined);
  }

  append(data: Bytes): Promise<void> {
    const at = this.position;
    this.position += byteLengthOf(data);
    const write = this.track(this.handle.then((fh) => writeAllAt(fh, data, at)).catch(failWithKey(this.key)));
    if (this.syncDir && this.position - this.syncedTo >= EARLY_SYNC_BYTES && !this.syncing) this.syncEarly(write);
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
    const settled = (): void => void (this.syncing = undefined);
    sync.then(settled, settled);
    // A failed flush fails the commit (it waits for every tracked operation).
    this.track(sync.catch(failWithKey(this.key)));
  }

  async overwrite(offset: number, data: Uint8Array): Promise<void> {
    // Earlier appends may cover the same bytes (e.g. a placeholder): they must land first.
    await Promise.all(this.pending);
    if (offset + data.byteLength > this.position) {
      throw withKey(new RangeError(`overwrite of bytes ${offset}..${offset + data.byteLength} past the ${this.position} appended`), this.key);
    }
    return this.track(this.handle.then((fh) => writeAllAt(fh, data, offset)).catch(failWithKey(this.key)));
  }

  /** Keeps `write` among the writes commit() and abort() wait for, until it settles. */
  private track(write: Promise<void>): Promise<void> {
    this.pending.add(write);
    const settled = (): void => void this.pending.delete(write);
    write.then(settled, settled);
    return write;
  }

  async commit(totalBytes?: number): Promise<void> {
    try {
      await Promise.all(this.pending);
      const fh = await this.handle;
      // Extending with truncate writes zeros (the fill value) without touching them in memory.
      if (totalBytes !== undefined && totalBytes > this.position) await fh.truncate(totalBytes);
      if (this.syncDir) await fh.datasync();
      await fh.close();
      await rename(this.temp!, this.file!);
    } catch (error) {
      // A failed append or commit must not leave the temporary file behind.
      await this.abort();
      throw withKey(error, this.key);
    }
    // The value is under its key; it is durable once its directory entry is.
    if (this.syncDir) await this.syncDir(path.dirname(this.file!)).catch(failWithKey(this.key));
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.pending);
    const fh = await this.handle.catch(() => undefined);
    await fh?.close().catch(() => undefined);
    if (this.temp) await unlink(this.temp).catch(() => undefined);
  }
}

/** Writes all of `data` at `position`: pieces in one gathered write, resumed where a short write stopped. */
async function writeAllAt(fh: FileHandle, data: Bytes, position: number): Promise<void> {
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
