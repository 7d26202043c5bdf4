/**
 * The write path under failures: a chunk whose write failed is never committed or counted, the store is final when
 * pipeline() rejects, metadata rewrites coalesce and survive a failed write, user stores' errors never crash the
 * process, and start-up never leaves a group naming an array without metadata.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sinkOf, zarrTransforms } from '../src/zarr-transforms.js';
import type { ZarrStreamOptions } from '../src/options.js';
import { FileSystemStore } from '../src/stores/fs-store.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import { bufferingWriter, type StoreWriter } from '../src/stores/store.js';
import { syntheticFrame } from '../src/frames/synthetic.js';
import { firstDifference, makeFrames, source, tempDir } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';
import { FaultyFs, FaultyStore, ioError, type FaultAction } from './helpers/faults.js';
import { delay } from './helpers/slow-store.js';

const BASE = { dtype: 'uint16', width: 16, height: 8 } as const;
const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes));

async function partials(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).map(String).filter((file) => file.includes('.partial'));
}

/** Error, its causes and aggregated errors, flattened: what a caller can find attached to a rejection. */
function attached(error: unknown): unknown[] {
  const out: unknown[] = [];
  const visit = (value: unknown): void => {
    if (value === undefined || out.includes(value)) return;
    out.push(value);
    if (value instanceof AggregateError) value.errors.forEach(visit);
    if (value instanceof Error) visit(value.cause);
  };
  visit(error);
  return out;
}

// ------------------------------------------------------------------------------------------ defect 1

for (const fault of ['EIO', 'short write then EIO'] as const) {
  test(`a chunk whose 2nd file write fails (${fault}) is not renamed into place nor counted`, async (t) => {
    const dir = await tempDir();
    const key = '0/0/0/0/0';
    let writesToKey = 0;
    let shortened = false;
    const fs: FaultyFs = new FaultyFs(dir, (op): FaultAction | undefined => {
      if (op.op !== 'write') return undefined;
      if (shortened) {
        shortened = false;
        return { fail: 'EIO' };
      }
      if (op.key !== key || ++writesToKey !== 2) return undefined;
      if (fault === 'EIO') return { fail: 'EIO' };
      shortened = true;
      return 'short';
    }, (op) => (fs.faulted && op.index > fs.faulted.index && op.op === 'write' ? 20 : 0));
    // Writes after the fault are slow: the failure has settled before the chunk's last part is committed.
    const store = new FileSystemStore(dir, { fs });
    const { frames } = makeFrames(6, 16, 8, 1, 'uint16');
    const error = await t.throwsAsync(pipeline(source(frames), ...zarrTransforms({ ...BASE, store, zarrVersion: 2, chunking: { framesPerChunk: 4 } })));
    t.regex(error!.message, /store key "0\/0\/0\/0\/0": EIO/);
    t.false(existsSync(path.join(dir, key)), 'the failed chunk is not under its key');
    t.is(decode(await readFile(path.join(dir, '0', '.zarray'))).shape[0], 0, 'metadata does not count it');
    t.deepEqual(await partials(dir), []);
    await rm(dir, { recursive: true, force: true });
  });
}

test('FileWriter: a failed write stays visible: later appends and commit reject, nothing appears under the key', async (t) => {
  const dir = await tempDir();
  let writes = 0;
  const fs = new FaultyFs(dir, (op) => (op.op === 'write' && ++writes === 2 ? { fail: 'EIO' } : undefined));
  const writer = new FileSystemStore(dir, { fs }).createWriter('k/1');
  await writer.append(Uint8Array.of(1, 2));
  await t.throwsAsync(writer.append(Uint8Array.of(3)), { message: /^store key "k\/1": EIO/ });
  await t.throwsAsync(writer.append(Uint8Array.of(4)), { message: /^store key "k\/1": EIO/ });
  await t.throwsAsync(writer.commit(8), { message: /^store key "k\/1": EIO/ });
  t.deepEqual(await readdir(path.join(dir, 'k')), []);
  t.deepEqual(fs.log.filter((op) => op.op === 'rename'), []);
  await rm(dir, { recursive: true, force: true });
});

test("a custom store's writer whose 2nd append rejects sees only abort() afterwards; nothing is committed or counted", async (t) => {
  const calls: string[] = [];
  let failedAt = -1;
  class FailingAppendStore extends MemoryStore {
    appends = 0;
    createWriter(key: string): StoreWriter {
      const inner = bufferingWriter(this, key);
      return {
        append: async (data) => {
          calls.push(`append ${key}`);
          if (++this.appends === 2) {
            await delay(10);
            failedAt = calls.length;
            throw new Error('connection reset');
          }
          return inner.append(data);
        },
        commit: (totalBytes) => (calls.push(`commit ${key}`), inner.commit(totalBytes)),
        abort: () => (calls.push(`abort ${key}`), inner.abort()),
      };
    }
  }
  const store = new FailingAppendStore();
  const { frames } = makeFrames(6, 16, 8, 1, 'uint16');
  await t.throwsAsync(pipeline(source(frames), ...zarrTransforms({ ...BASE, store, zarrVersion: 3, chunking: { framesPerChunk: 4 } })), {
    message: 'store key "0/c/0/0/0/0": connection reset',
  });
  t.true(failedAt > 0);
  t.deepEqual(calls.slice(failedAt), ['abort 0/c/0/0/0/0'], calls.join(', '));
  t.false(store.map.has('0/c/0/0/0/0'));
  t.is(decode(await store.get('0/zarr.json')).shape[0], 0);
});

// ------------------------------------------------------------------------------------------ defect 5

test('after a bad frame, the store is final when pipeline() rejects: nothing is written afterwards', async (t) => {
  for (const good of [0, 5]) {
    let rejected = false;
    const late: string[] = [];
    class SlowSetStore extends MemoryStore {
      override async set(key: string, value: Uint8Array): Promise<void> {
        await delay(5);
        if (rejected) late.push(key);
        return super.set(key, value);
      }
    }
    const store = new SlowSetStore();
    const { frames } = makeFrames(good, 16, 8, 1, 'uint16');
    const chain = zarrTransforms({ ...BASE, store, chunking: { framesPerChunk: 2 } });
    await t.throwsAsync(pipeline(source([...frames, 'not a frame']), ...chain), { message: /frame \d+: expected/ });
    rejected = true;
    if (good === 0) {
      // The bad frame came first: no message reached the sink, which opens the store with its first write.
      await delay(100);
      t.deepEqual([...store.map.keys()], [], 'nothing is written when the first frame is bad');
      continue;
    }
    const atRejection = decode(await store.get('0/zarr.json'));
    await delay(100);
    t.deepEqual(late, [], `${good} good frames: written after the rejection`);
    t.is(atRejection.shape[0], sinkOf(chain).progress.frames[0], 'the final metadata is what progress reports');
    t.deepEqual(decode(await store.get('0/zarr.json')), atRejection);
  }
});

test('after an abort, no temporary file remains when pipeline() rejects, and the final metadata is there', async (t) => {
  const dir = await tempDir();
  // Slow chunk writes keep appends in flight when the signal fires.
  const fs = new FaultyFs(dir, undefined, (op) => (op.op === 'write' ? 3 : 0));
  const store = new FileSystemStore(dir, { fs });
  const chain = zarrTransforms({ ...BASE, store, zarrVersion: 2, chunking: { framesPerChunk: 3 } });
  const controller = new AbortController();
  sinkOf(chain).on('progress', (progress: { frames: number[] }) => {
    if (progress.frames[0]! >= 3) controller.abort();
  });
  async function* endless() {
    for (let i = 0; ; i++) yield syntheticFrame(i, 16, 8, 1, 'uint16');
  }
  await t.throwsAsync(pipeline(endless(), ...chain, { signal: controller.signal }), { name: 'AbortError' });
  t.deepEqual(await partials(dir), []);
  const claimed = decode(await readFile(path.join(dir, '0', '.zarray'))).shape[0];
  t.is(claimed, sinkOf(chain).progress.frames[0]);
  const back = await readWithZarrita(dir);
  t.is(firstDifference(back.bytes, makeFrames(claimed, 16, 8, 1, 'uint16').bytes), -1);
  await rm(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------ defect 6

test('metadata rewrites coalesce to the newest state, one in flight per array', async (t) => {
  const rows = 20;
  let chunks = 0;
  let inFlight = 0;
  let most = 0;
  const counts: number[] = [];
  let allStored!: () => void;
  const stored = new Promise<void>((resolve) => (allStored = resolve));
  class GatedStore extends MemoryStore {
    override async set(key: string, value: Uint8Array): Promise<void> {
      if (key.startsWith('0/c/') && ++chunks === rows) allStored();
      if (key === '0/zarr.json') {
        inFlight++;
        most = Math.max(most, inFlight);
        counts.push(decode(value).shape[0]);
        // The first rewrite lands only once every chunk is stored: later rows must not queue a write each.
        if (counts.length === 2) await stored;
        await delay(1);
        inFlight--;
      }
      return super.set(key, value);
    }
  }
  const store = new GatedStore();
  const chain = zarrTransforms({ ...BASE, store, chunking: { framesPerChunk: 1 } });
  await pipeline(source(makeFrames(rows, 16, 8, 1, 'uint16').frames), ...chain);
  t.is(most, 1);
  t.deepEqual(counts, [0, 1, rows]);
  t.is(decode(await store.get('0/zarr.json')).shape[0], rows);
});

test('a failed metadata write (ENOSPC) is retried by the next update; it is reported as a warning', async (t) => {
  let arrayWrites = 0;
  class FullOnceStore extends MemoryStore {
    override async set(key: string, value: Uint8Array): Promise<void> {
      // The first rewrite after start-up fails, as on a disk that was full for a moment.
      if (key === '0/zarr.json' && ++arrayWrites === 2) throw ioError('ENOSPC', 'write', key);
      return super.set(key, value);
    }
  }
  const store = new FullOnceStore();
  const chain = zarrTransforms({ ...BASE, store, chunking: { framesPerChunk: 2 } });
  const warnings: string[] = [];
  sinkOf(chain).on('warning', (message: string) => warnings.push(message));
  await pipeline(source(makeFrames(6, 16, 8, 1, 'uint16').frames), ...chain);
  t.is(decode(await store.get('0/zarr.json')).shape[0], 6);
  t.true(arrayWrites > 2);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /store key "0\/zarr.json": ENOSPC.*retried/);
});

// ------------------------------------------------------------------------------------------ defect 7

for (const how of ['sync', 'async'] as const) {
  test(`a custom store whose abort() ${how === 'sync' ? 'throws' : 'rejects'}: the error is attached to the rejection, no crash`, async (t) => {
    let appends = 0;
    const store = new FaultyStore(new MemoryStoreWithWriter(), (op) => op.op === 'append' && ++appends === 2, how);
    const { frames } = makeFrames(6, 16, 8, 1, 'uint16');
    const error = await t.throwsAsync(pipeline(source(frames), ...zarrTransforms({ ...BASE, store, chunking: { framesPerChunk: 4 } })));
    t.is(error!.message, `store key "${store.faulted!.key}": injected append failure`);
    t.true(store.abortErrors > 0);
    const abortError = attached(error).find((e) => e instanceof Error && /abort of/.test(e.message)) as Error & { key?: string };
    t.truthy(abortError, 'the abort error is attached');
    t.is(abortError.key, store.faulted!.key);
    t.deepEqual(store.callsAfterFailure, []);
  });
}

/** A MemoryStore with a streamed writer, so FaultyStore has writers to wrap. */
class MemoryStoreWithWriter extends MemoryStore {
  createWriter(key: string): StoreWriter {
    return bufferingWriter(this, key);
  }
}

test('a createWriter that returns nothing, or not a writer, fails the pipeline naming the key', async (t) => {
  for (const returned of [undefined, null, 42, { append: 1 }]) {
    class OddStore extends MemoryStore {
      createWriter(): StoreWriter {
        return returned as unknown as StoreWriter;
      }
    }
    const { frames } = makeFrames(3, 16, 8, 1, 'uint16');
    await t.throwsAsync(pipeline(source(frames), ...zarrTransforms({ ...BASE, store: new OddStore() })), {
      message: /^store key "0\/c\/0\/0\/0\/0": createWriter returned .*, not a writer/,
    });
  }
});

test('a set that rejects with a non-Error, or with a frozen error, gives an Error naming the key (the root group too)', async (t) => {
  const frozen = Object.freeze(new Error('frozen'));
  for (const [failing, reason, message] of [
    ['zarr.json', 'no space', /^store key "zarr.json": no space$/],
    ['0/zarr.json', undefined, /^store key "0\/zarr.json": undefined$/],
    ['0/c/0/0/0/0', { code: 'EIO' }, /^store key "0\/c\/0\/0\/0\/0": /],
    ['0/c/0/0/0/0', frozen, /^store key "0\/c\/0\/0\/0\/0": frozen$/],
  ] as const) {
    class RejectingStore extends MemoryStore {
      override async set(key: string, value: Uint8Array): Promise<void> {
        if (key === failing) throw reason;
        return super.set(key, value);
      }
    }
    const { frames } = makeFrames(2, 16, 8, 1, 'uint16');
    const error = await t.throwsAsync(pipeline(source(frames), ...zarrTransforms({ ...BASE, store: new RejectingStore(), compression: { codec: 'lz4' }, workers: 1 })));
    t.true(error instanceof Error);
    t.regex(error!.message, message);
    t.is((error as Error & { key?: string }).key, failing);
  }
});

// ------------------------------------------------------------------------------------------ defect 8

test('a failure during start-up never leaves a group naming an array without metadata', async (t) => {
  for (const zarrVersion of [2, 3] as const) {
    // Every set of start-up in turn fails (v2: 2 arrays, .zgroup, .zattrs; v3: 2 arrays, zarr.json).
    for (let k = 1; k <= (zarrVersion === 2 ? 4 : 3); k++) {
      const store = new FaultyStore(new MemoryStore(), (op) => op.op === 'set' && op.index === k);
      const options: ZarrStreamOptions = { ...BASE, width: 32, height: 32, store, zarrVersion, multiscale: true, chunking: { tileWidth: 16, tileHeight: 16 } };
      await t.throwsAsync(pipeline(source([]), ...zarrTransforms(options)), { message: /injected set failure/ });
      const attributes = zarrVersion === 2 ? store.get('.zattrs') : store.get('zarr.json').then((bytes) => bytes && decode(bytes).attributes);
      const attrs = await attributes;
      const group = attrs instanceof Uint8Array ? decode(attrs) : attrs;
      const multiscales = group?.multiscales ?? group?.ome?.multiscales;
      if (!multiscales) continue;
      for (const dataset of multiscales[0].datasets as Array<{ path: string }>) {
        t.truthy(await store.get(`${dataset.path}/${zarrVersion === 2 ? '.zarray' : 'zarr.json'}`), `v${zarrVersion}, set ${k} failed: group names ${dataset.path}`);
      }
    }
  }
});
