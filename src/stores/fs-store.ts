/**
 * A store over a local directory. Every value is written under a temporary name beside its final one and renamed
 * into place, so a crash never leaves a torn file under a key. With `durable` (the default) each value is fsynced
 * before its rename and its directory after, so a value is on disk once its set() or commit() resolves: metadata
 * written after that never claims what a power cut can take away.
 *
 * Constructing the store does no I/O: the root is resolved, locked and created when the store is first used.
 */
import { link, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { validateKey } from './keys.js';
import { failWithKey, withKey, type Store, type StoreWriter } from './store.js';
import { DirSyncer } from './fs-durable.js';
import { acquireLock, LOCK_FILE, releaseLock } from './fs-lock.js';
import { clearZarrStore } from './fs-clear.js';
import { assertRealFilesystem, explainMkdirError } from './fs-checks.js';
import { NODE_FILE_OPS, tempName, writeAllAt, type FileOps } from './file-ops.js';
import { EarlySyncGate, FileWriter } from './file-writer.js';

export type { FileHandleOps, FileOps } from './file-ops.js';

export interface FileSystemStoreOptions {
  /** fsync values and directories before a write resolves (default true); false for scratch data. */
  durable?: boolean;
  /** Replaces node:fs/promises for writes: tests use it to inject faults. */
  fs?: FileOps;
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
  /** Early flushes of all this store's writers at once: one (file-writer.ts). */
  private readonly earlySyncs = new EarlySyncGate();
  private lockFile: string | undefined;
  /** Checked once, before the first mkdir: under /proc that mkdir would never return. */
  private rootChecked: Promise<void> | undefined;
  private readonly fs: FileOps;

  constructor(root: string, options: FileSystemStoreOptions = {}) {
    if (typeof root !== 'string' || root.length === 0) throw new TypeError(`store path must be a non-empty string, got ${JSON.stringify(root)}`);
    this.path = root;
    this.durable = options.durable ?? true;
    this.fs = options.fs ?? NODE_FILE_OPS;
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
      await this.writeTemp(temp, value);
      await this.fs.rename(temp, file);
    } catch (error) {
      await this.fs.unlink(temp).catch(() => undefined);
      throw withKey(error, key);
    }
    if (this.durable) await this.syncer.sync(path.dirname(file)).catch(failWithKey(key));
  }

  /** As set(), but only when `key` names no file yet: the temporary is linked into place (link fails if it exists). */
  async setIfAbsent(key: string, value: Uint8Array): Promise<boolean> {
    validateKey(key);
    await this.open();
    const file = this.resolve(key);
    await this.ensureDir(path.dirname(file)).catch(failWithKey(key));
    const temp = tempName(file);
    let created = true;
    try {
      await this.writeTemp(temp, value);
      await link(temp, file).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') created = false;
        else if (!NO_HARD_LINKS.has(error.code ?? '')) throw error;
        // A filesystem without hard links: exclusive only against writers that are not between these two steps.
        else if (await stat(file).then(() => true, () => false)) created = false;
        else await this.fs.rename(temp, file);
      });
    } catch (error) {
      throw withKey(error, key);
    } finally {
      await this.fs.unlink(temp).catch(() => undefined);
    }
    if (created && this.durable) await this.syncer.sync(path.dirname(file)).catch(failWithKey(key));
    return created;
  }

  /** Writes `value` to the temporary file `temp`, on disk (fdatasync) before it is renamed or linked when durable. */
  private async writeTemp(temp: string, value: Uint8Array): Promise<void> {
    const fh = await this.fs.open(temp, 'w');
    try {
      await writeAllAt(fh, value, 0);
      if (this.durable) await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  /** The store below `sub` (a directory inside this one), with this store's settings: its own lock, check and clear. */
  at(sub: string): FileSystemStore {
    return new FileSystemStore(path.join(this.path, ...validateKey(sub)), { durable: this.durable, fs: this.fs });
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
    return new FileWriter(this.fs, key, file, this.durable ? (dir) => this.syncer.sync(dir) : undefined, this.earlySyncs);
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
    await (this.rootChecked ??= assertRealFilesystem(this.root));
    const parent = path.dirname(dir);
    if (dir === this.root || parent === dir) {
      const first = await this.fs.mkdir(dir, { recursive: true }).catch(async (error: unknown) => {
        throw await explainMkdirError(dir, error);
      });
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
      await this.fs.mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw await explainMkdirError(dir, error);
    }
    if (this.durable) await this.syncer.sync(parent);
  }
}

/** link() errors of filesystems that have no hard links (FAT, some FUSE and network mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

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
