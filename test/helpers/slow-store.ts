/** A store whose every write takes a while and which counts the bytes handed to it: backpressure tests use it. */
import { MemoryStore } from '../../src/stores/memory-store.js';
import { bufferingWriter, type StoreWriter } from '../../src/stores/store.js';
import { byteLengthOf } from '../../src/messages.js';

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SlowStore extends MemoryStore {
  appendedBytes = 0;

  override async set(key: string, value: Uint8Array): Promise<void> {
    await delay(2);
    return super.set(key, value);
  }

  createWriter(key: string): StoreWriter {
    const inner = bufferingWriter(this, key);
    return {
      append: async (data) => {
        await delay(2);
        await inner.append(data);
        this.appendedBytes += byteLengthOf(data);
      },
      commit: (totalBytes) => inner.commit(totalBytes),
      abort: () => inner.abort(),
    };
  }
}
