/** A store whose every write takes a while and which counts the bytes handed to it: backpressure tests use it. */
import { MemoryStore } from '../../src/stores/memory-store.js';
import { bufferingWriter, type StoreWriter } from '../../src/stores/store.js';
import { byteLengthOf } from '../../src/messages.js';
import { pipeline } from 'node:stream/promises';
import { sinkOf, type ZarrChain } from '../../src/zarr-transforms.js';
import { syntheticFrame } from '../../src/frames/synthetic.js';

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SlowStore extends MemoryStore {
  appendedBytes = 0;

  override async set(key: string, value: Uint8Array): Promise<void> {
    await delay(2);
    return super.set(key, value);
  }

  createWriter(key: string): StoreWriter {
    const inner = bufferingWriter(this, key);
    // Appends land in call order (equal delays fire in order); commit waits for them all, as a real writer's does.
    let landed: Promise<void> = Promise.resolve();
    return {
      append: (data) => {
        const append = delay(2).then(() => inner.append(data)).then(() => {
          this.appendedBytes += byteLengthOf(data);
        });
        landed = Promise.all([landed, append]).then(() => undefined);
        return append;
      },
      commit: (totalBytes) => landed.then(() => inner.commit(totalBytes)),
      abort: () => inner.abort(),
    };
  }
}

/**
 * Streams `count` synthetic uint16 frames through `chain` and returns the most frames the source was ever pulled
 * ahead of the frames the sink reports stored: what the stages between them held at worst.
 */
export async function maxFramesAheadOfStore(chain: ZarrChain, count: number, width: number, height: number): Promise<{ ahead: number; stored: number }> {
  const sink = sinkOf(chain);
  let pulled = 0;
  let ahead = 0;
  async function* camera() {
    for (let i = 0; i < count; i++) {
      ahead = Math.max(ahead, pulled - sink.progress.frames[0]!);
      pulled++;
      yield syntheticFrame(i, width, height, 1, 'uint16');
    }
  }
  await pipeline(camera(), ...chain);
  return { ahead, stored: sink.progress.frames[0]! };
}
