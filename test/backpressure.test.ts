/** A slow store slows the source: nothing between them buffers without limit. */
import test from 'ava';
import { pipeline } from 'node:stream/promises';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { syntheticFrame } from '../src/frames/synthetic.js';
import { SlowStore, maxFramesAheadOfStore } from './helpers/slow-store.js';

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

test('with compression too, a slow store holds the source back: compressed chunks do not pile up', async (t) => {
  const width = 64;
  const height = 64;
  const framesPerChunk = 5;
  class SlowerStore extends SlowStore {
    override async set(key: string, value: Uint8Array): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 15));
      return super.set(key, value);
    }
  }
  const store = new SlowerStore();
  const chain = zarrTransforms({ store, dtype: 'uint16', width, height, compression: { codec: 'lz4' }, workers: 1, chunking: { tileWidth: 32, tileHeight: 32, framesPerChunk } });
  const { ahead: maxAhead, stored } = await maxFramesAheadOfStore(chain, 200, width, height);
  t.is(stored, 200);
  // A row filling, a row's worth of chunks in the compressor and the sink, and the queues between stages.
  t.true(maxAhead <= 4 * framesPerChunk + 8, `source ran ${maxAhead} frames ahead of the stored rows`);
  t.log(`max frames ahead of the stored rows: ${maxAhead}`);
});
