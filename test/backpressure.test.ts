/** A slow store slows the source: nothing between them buffers without limit. */
import test from 'ava';
import { pipeline } from 'node:stream/promises';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import type { StoreWriter } from '../src/stores/store.js';
import { syntheticFrame } from '../src/frames/synthetic.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A store whose every write takes a while, and which counts the bytes it has been handed. */
class SlowStore extends MemoryStore {
  appendedBytes = 0;
  override async set(key: string, value: Uint8Array): Promise<void> {
    await delay(2);
    return super.set(key, value);
  }
  createWriter(key: string): StoreWriter {
    const parts: Uint8Array[] = [];
    return {
      append: async (data) => {
        await delay(2);
        parts.push(data.slice());
        this.appendedBytes += data.byteLength;
      },
      commit: async (totalBytes) => {
        const value = new Uint8Array(totalBytes ?? 0);
        let offset = 0;
        for (const part of parts) value.set(part, (offset += part.byteLength) - part.byteLength);
        await this.set(key, value);
      },
      abort: async () => undefined,
    };
  }
}

test('the source is pulled only a bounded number of frames ahead of the store', async (t) => {
  const width = 64;
  const height = 64;
  const frameBytes = width * height * 2;
  const store = new SlowStore();
  let pulled = 0;
  let maxAhead = 0;
  async function* camera() {
    for (let i = 0; i < 150; i++) {
      const stored = store.appendedBytes / frameBytes;
      maxAhead = Math.max(maxAhead, pulled - stored);
      pulled++;
      yield syntheticFrame(i, width, height, 1, 'uint16');
    }
  }
  await pipeline(camera(), ...zarrTransforms({ store, dtype: 'uint16', width, height, chunking: { tileWidth: 32, tileHeight: 32, framesPerChunk: 50 } }));
  t.is(pulled, 150);
  // Queues between the stages hold a few frames' worth of tiles; 150 frames streamed, at most ~16 ahead.
  t.true(maxAhead <= 16, `source ran ${maxAhead} frames ahead of the store`);
  t.log(`max frames ahead of the store: ${maxAhead.toFixed(1)}`);
});
