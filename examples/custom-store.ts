/**
 * A minimal custom Store: it logs every key it is asked to write and forwards to a FileSystemStore.
 * Only set() and get() are required; createWriter() lets raw chunks stream to disk in parts instead of being
 * gathered in memory first, isEmpty()/clear() let zarrTransforms() refuse or replace a non-empty store, and
 * lock()/unlock() keep a second writer out.
 *
 *   node dist/examples/custom-store.js <out.zarr>
 */
import { pipeline } from 'node:stream/promises';
import { FileSystemStore, syntheticFrames, zarrTransforms, type Store, type StoreWriter, byteLengthOf } from '../src/index.js';

class LoggingStore implements Store {
  readonly written: string[] = [];
  private readonly inner: FileSystemStore;

  constructor(root: string) {
    this.inner = new FileSystemStore(root);
  }

  get description(): string {
    return `logging store over ${this.inner.root}`;
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    await this.inner.set(key, value);
    this.log(key, value.byteLength);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  createWriter(key: string): StoreWriter {
    const writer = this.inner.createWriter(key);
    let bytes = 0;
    return {
      append: (data) => {
        bytes += byteLengthOf(data);
        return writer.append(data);
      },
      commit: async (totalBytes) => {
        await writer.commit(totalBytes);
        this.log(key, totalBytes ?? bytes);
      },
      abort: () => writer.abort(),
    };
  }

  isEmpty(): Promise<boolean> {
    return this.inner.isEmpty();
  }

  clear(): Promise<void> {
    return this.inner.clear();
  }

  lock(): Promise<void> {
    return this.inner.lock();
  }

  unlock(): Promise<void> {
    return this.inner.unlock();
  }

  private log(key: string, bytes: number): void {
    this.written.push(key);
    console.log(`stored ${key} (${bytes} bytes)`);
  }
}

const out = process.argv[2];
if (!out) {
  console.error('usage: node dist/examples/custom-store.js <out.zarr>');
  process.exit(2);
}

const store = new LoggingStore(out);
await pipeline(
  syntheticFrames({ frames: 6, width: 64, height: 64, dtype: 'uint16' }),
  ...zarrTransforms({ store, dtype: 'uint16', width: 64, height: 64, chunking: { tileWidth: 32, tileHeight: 32, framesPerChunk: 3 } }),
);
console.log(`${store.written.length} writes; metadata is rewritten as chunk rows complete, so some keys appear more than once`);
