/**
 * Run as a child process by test/bounded-memory.test.ts: writes a 5-D acquisition whose one time point is several
 * GiB (naive buffering of a volume would need all of it) into a store that keeps only metadata and counts chunk
 * bytes, then prints the estimate, the peak RSS and what was stored, as JSON.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { estimateMemory, zarrTransforms, type Store, type StoreWriter, type ZarrStreamOptions } from '../../src/index.js';
import { syntheticFrame } from '../../src/frames/synthetic.js';
import type { Bytes } from '../../src/messages.js';
import { byteLengthOf } from '../../src/messages.js';

const [C, Z, Y, X] = [2, Number(process.argv[2] ?? 192), 2048, 2048];

class CountingStore implements Store {
  readonly metadata = new Map<string, Uint8Array>();
  values = 0;
  bytes = 0;
  async set(key: string, value: Uint8Array): Promise<void> {
    if (key.endsWith('.json') || key.includes('.z')) this.metadata.set(key, value.slice());
    else this.values++;
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.metadata.get(key);
  }
  createWriter(): StoreWriter {
    let size = 0;
    return {
      append: async (data: Bytes) => void (size += byteLengthOf(data)),
      overwrite: async () => undefined,
      commit: async () => {
        this.values++;
        this.bytes += size;
      },
      abort: async () => undefined,
    };
  }
}

const store = new CountingStore();
const options: ZarrStreamOptions = {
  store,
  dtype: 'uint16',
  dimensions: [
    { name: 't', kind: 'time', size: 0, chunk: 1 },
    { name: 'c', kind: 'channel', size: C, chunk: 1 },
    { name: 'z', kind: 'space', size: Z, chunk: 16 },
    { name: 'y', kind: 'space', size: Y, chunk: 512 },
    { name: 'x', kind: 'space', size: X, chunk: 512 },
  ],
  compression: { codec: 'lz4' },
  workers: 2,
};
// A camera's ring of 4 buffers: frames are copied in (frameOwnership 'copy'), the ring is reused.
const ring = Array.from({ length: 4 }, (_, k) => syntheticFrame(k, X, Y, 1, 'uint16'));
const frames = C * Z;
const before = process.memoryUsage().rss;
await pipeline(
  Readable.from((function* () {
    for (let k = 0; k < frames; k++) yield ring[k % ring.length];
  })(), { objectMode: true }),
  ...zarrTransforms(options),
);
const meta = JSON.parse(new TextDecoder().decode(store.metadata.get('0/zarr.json')!));
console.log(JSON.stringify({
  estimate: estimateMemory(options).bytes,
  before,
  maxRss: process.resourceUsage().maxRSS * 1024,
  volumeBytes: frames * X * Y * 2,
  values: store.values,
  bytes: store.bytes,
  shape: meta.shape,
}));
