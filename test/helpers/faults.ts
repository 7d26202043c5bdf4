/**
 * Fault injection for write-path tests: a file system seam for FileSystemStore that fails (or shortens) one chosen
 * operation, and a Store wrapper that fails one chosen store call and whose writers' abort() throws.
 */
import * as fsPromises from 'node:fs/promises';
import path from 'node:path';
import type { FileHandleOps, FileOps } from '../../src/stores/fs-store.js';
import type { Store, StoreWriter } from '../../src/stores/store.js';
import { byteLengthOf, type Bytes } from '../../src/messages.js';

export type FileOpName = 'open' | 'write' | 'truncate' | 'datasync' | 'close' | 'rename' | 'unlink' | 'mkdir';

export interface FileOp {
  /** 1-based index among all operations of the run. */
  index: number;
  op: FileOpName;
  /** The final file (or directory) the operation concerns, relative to the store root: a temporary maps to its key. */
  key: string;
}

/** What to do to an operation: fail it with an errno code, or (writes only) write half and report a short count. */
export type FaultAction = { fail: string } | 'short';

const pause = (ms: number): Promise<void> | undefined => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined);

export function ioError(code: string, op: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${op} '${file}'`), { code, syscall: op, path: file });
}

/** The key a store file stands for: a temporary `.name.pid.n.partial` stands for `name`. */
function keyOf(root: string, file: string): string {
  const base = path.basename(file).replace(/^\.(.*)\.\d+\.\d+\.partial$/, '$1');
  return path.relative(root, path.join(path.dirname(file), base)).split(path.sep).join('/');
}

/**
 * node:fs/promises with a fault hook: `decide` sees every operation in order and may fail it. Records the
 * operations (`log`) and the first one it faulted (`faulted`).
 */
export class FaultyFs implements FileOps {
  readonly log: FileOp[] = [];
  /** The first operation made to fail. */
  faulted: FileOp | undefined;
  /** The first write made short. */
  shortened: FileOp | undefined;

  constructor(
    private readonly root: string,
    private readonly decide: (op: FileOp) => FaultAction | undefined = () => undefined,
    /** Milliseconds each operation waits before it runs (slow disks keep writes in flight). */
    private readonly delayMs: (op: FileOp) => number = () => 0,
  ) {}

  private next(op: FileOpName, file: string): { info: FileOp; action: FaultAction | undefined } {
    const info = { index: this.log.length + 1, op, key: keyOf(this.root, file) };
    this.log.push(info);
    const action = this.decide(info);
    if (action === 'short') this.shortened ??= info;
    else if (action) this.faulted ??= info;
    return { info, action };
  }

  private async run<T>(op: FileOpName, file: string, real: () => Promise<T>): Promise<T> {
    const { info, action } = this.next(op, file);
    await pause(this.delayMs(info));
    if (action && action !== 'short') throw ioError(action.fail, op, file);
    return real();
  }

  async open(file: string, flags: 'w'): Promise<FileHandleOps> {
    const fh = await this.run('open', file, () => fsPromises.open(file, flags));
    const write = async (buffers: Uint8Array[], position: number): Promise<{ bytesWritten: number }> => {
      const { info, action } = this.next('write', file);
      await pause(this.delayMs(info));
      if (action === 'short') {
        // Half of the bytes reach the file; the caller learns so from the count, as from a real short write.
        const half = Math.max(1, Math.floor(byteLengthOf(buffers) / 2));
        const first = buffers[0]!.subarray(0, Math.min(half, buffers[0]!.byteLength));
        return fh.write(first, 0, first.byteLength, position);
      }
      if (action) throw ioError(action.fail, 'write', file);
      return fh.writev(buffers, position);
    };
    return {
      write: (buffer, offset, length, position) => write([buffer.subarray(offset, offset + length)], position),
      writev: (buffers, position) => write(buffers, position),
      truncate: (length) => this.run('truncate', file, () => fh.truncate(length)),
      datasync: () => this.run('datasync', file, () => fh.datasync()),
      // Linux releases the descriptor even when close() reports an error: so does a faulted close here.
      close: () => this.run('close', file, () => fh.close()).catch(async (error: unknown) => {
        await fh.close().catch(() => undefined);
        throw error;
      }),
    };
  }

  rename(from: string, to: string): Promise<void> {
    return this.run('rename', to, () => fsPromises.rename(from, to));
  }

  unlink(file: string): Promise<void> {
    return this.run('unlink', file, () => fsPromises.unlink(file));
  }

  mkdir(dir: string, options?: { recursive?: boolean }): Promise<string | undefined> {
    return this.run('mkdir', dir, () => fsPromises.mkdir(dir, options));
  }
}

export type StoreOpName = 'set' | 'createWriter' | 'append' | 'overwrite' | 'commit';

export interface StoreOp {
  index: number;
  op: StoreOpName;
  key: string;
}

/**
 * Wraps a store: the operation `decide` picks fails (a rejection with a non-Error value, as careless user code
 * might), and every writer's abort() cleans up through the inner writer, then throws (or rejects) anyway.
 * `calls` lists every call a writer saw, in order, with whether it came after that writer's own failure.
 */
export class FaultyStore implements Store {
  readonly log: StoreOp[] = [];
  faulted: StoreOp | undefined;
  /** Calls a writer received after one of its calls had failed, other than abort(). */
  readonly callsAfterFailure: string[] = [];
  abortErrors = 0;
  /** The inner writers' clean-ups, which a throwing abort() leaves running: await them before looking for leftovers. */
  readonly cleanups: Array<Promise<unknown>> = [];

  constructor(
    private readonly inner: Store,
    private readonly decide: (op: StoreOp) => boolean,
    private readonly abortThrows: 'sync' | 'async' | false = false,
  ) {}

  get description(): string | undefined {
    return this.inner.description;
  }

  private check(op: StoreOpName, key: string): void {
    const info = { index: this.log.length + 1, op, key };
    this.log.push(info);
    if (this.decide(info)) {
      this.faulted ??= info;
      throw `injected ${op} failure`;
    }
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    this.check('set', key);
    return this.inner.set(key, value);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  isEmpty(): Promise<boolean> {
    return this.inner.isEmpty?.() ?? Promise.resolve(true);
  }

  createWriter(key: string): StoreWriter {
    this.check('createWriter', key);
    const inner = this.inner.createWriter!(key);
    let failed = false;
    const guarded = <T>(op: StoreOpName, call: () => Promise<T>): Promise<T> => {
      if (failed) this.callsAfterFailure.push(`${op} ${key}`);
      return (async () => {
        this.check(op, key);
        return call();
      })().catch((error: unknown) => {
        failed = true;
        throw error;
      });
    };
    const writer: StoreWriter = {
      append: (data: Bytes) => guarded('append', () => inner.append(data)),
      commit: (totalBytes?: number) => guarded('commit', () => inner.commit(totalBytes)),
      abort: () => {
        const cleaned = inner.abort();
        this.cleanups.push(cleaned.catch(() => undefined));
        if (!this.abortThrows) return cleaned;
        this.abortErrors++;
        if (this.abortThrows === 'sync') {
          // Cleans up, then throws synchronously: careless, but a store's code may do it.
          void cleaned.catch(() => undefined);
          throw new Error(`abort of ${key} threw`);
        }
        return cleaned.then(() => Promise.reject(new Error(`abort of ${key} rejected`)));
      },
    };
    if (inner.overwrite) writer.overwrite = (offset, data) => guarded('overwrite', () => inner.overwrite!(offset, data));
    return writer;
  }
}
