/** FileSystemStore: atomic values, keys kept inside the root, no temporary files left by failures. */
import test from 'ava';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileSystemStore, type FileOps } from '../src/stores/fs-store.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import { bufferingWriter } from '../src/stores/store.js';
import { DirSyncer } from '../src/stores/fs-durable.js';
import { firstDifference, randomBytes, tempDir } from './helpers/frames.js';
import { FaultyFs } from './helpers/faults.js';

test('set, get and a streamed writer that pads with zeros', async (t) => {
  const store = new FileSystemStore(await tempDir());
  await store.set('a/b/.zarray', new TextEncoder().encode('{}'));
  t.is(new TextDecoder().decode(await store.get('a/b/.zarray')), '{}');
  t.is(await store.get('missing'), undefined);
  const writer = store.createWriter('0/c/0/0');
  await Promise.all([writer.append(Uint8Array.of(1, 2)), writer.append(Uint8Array.of(3))]);
  t.is(await store.get('0/c/0/0'), undefined, 'nothing under the key before commit');
  await writer.commit(6);
  t.deepEqual([...(await store.get('0/c/0/0'))!], [1, 2, 3, 0, 0, 0]);
  t.deepEqual((await readdir(path.join(store.root, '0', 'c', '0'))).sort(), ['0']);
});

test('overwrite replaces appended bytes after the appends before it, on disk and in memory', async (t) => {
  const fs = new FileSystemStore(await tempDir());
  const memory = new MemoryStore();
  for (const writer of [fs.createWriter('0/c/0/1'), bufferingWriter(memory, '0/c/0/1')]) {
    // The placeholder's append is still in flight when overwrite is called: it must not land over the header.
    const appends = [writer.append([new Uint8Array(4), Uint8Array.of(5, 6)]), writer.append(Uint8Array.of(7))];
    await writer.overwrite!(0, Uint8Array.of(1, 2, 3, 4));
    await Promise.all(appends);
    await t.throwsAsync(writer.overwrite!(6, Uint8Array.of(9, 9)), { message: /0\/c\/0\/1.*bytes 6\.\.8 past the 7 appended/ });
    await writer.commit();
  }
  t.deepEqual([...(await fs.get('0/c/0/1'))!], [1, 2, 3, 4, 5, 6, 7]);
  t.deepEqual([...(await memory.get('0/c/0/1'))!], [1, 2, 3, 4, 5, 6, 7]);
});

test('keys cannot leave the root', async (t) => {
  const store = new FileSystemStore(await tempDir());
  await t.throwsAsync(store.set('../escape', new Uint8Array(1)), { message: /invalid store key "..\/escape"/ });
  t.throws(() => store.createWriter('/etc/x'), { message: /absolute paths are not keys/ });
});

test('an aborted writer and a failed commit leave no temporary file', async (t) => {
  const root = await tempDir();
  const store = new FileSystemStore(root);
  const writer = store.createWriter('k/1');
  await writer.append(new Uint8Array(10));
  await writer.abort();
  t.deepEqual(await readdir(path.join(root, 'k')), []);
  // A directory where the value's file should go makes the rename fail.
  await mkdir(path.join(root, 'k', '2', 'x'), { recursive: true });
  const failing = store.createWriter('k/2');
  await failing.append(new Uint8Array(10));
  await t.throwsAsync(failing.commit(), { message: /store key "k\/2"/ });
  t.deepEqual((await readdir(path.join(root, 'k'))).sort(), ['2']);
});

test('a failed set names the key and leaves no temporary file', async (t) => {
  if (process.getuid?.() === 0) {
    // root ignores permissions: make the rename fail instead, with a directory in the way.
    const root = await tempDir();
    const store = new FileSystemStore(root);
    await mkdir(path.join(root, 'v', 'x'), { recursive: true });
    await t.throwsAsync(store.set('v', new Uint8Array(1)), { message: /store key "v"/ });
    t.deepEqual(await readdir(root), ['v']);
    return;
  }
  const root = await tempDir();
  await mkdir(path.join(root, 'ro'));
  await writeFile(path.join(root, 'ro', 'keep'), 'x');
  await chmod(path.join(root, 'ro'), 0o500);
  const store = new FileSystemStore(root);
  await t.throwsAsync(store.set('ro/v', new Uint8Array(1)), { message: /store key "ro\/v"/ });
  t.deepEqual(await readdir(path.join(root, 'ro')), ['keep']);
});

test('isEmpty: a missing or empty directory (or one holding only the lock) is empty; a file is an error', async (t) => {
  const root = await tempDir();
  t.true(await new FileSystemStore(path.join(root, 'nope')).isEmpty());
  const store = new FileSystemStore(root);
  t.true(await store.isEmpty());
  await store.lock();
  t.deepEqual(await readdir(root), ['.zarr-stream.lock']);
  t.true(await store.isEmpty());
  await store.unlock();
  t.deepEqual(await readdir(root), []);
  await writeFile(path.join(root, 'f'), 'x');
  t.false(await store.isEmpty());
  await t.throwsAsync(new FileSystemStore(path.join(root, 'f')).isEmpty(), { message: /exists and is not a directory/ });
});

test('DirSyncer: requests made before a directory fsync starts share it; later ones get a fresh one', async (t) => {
  const dir = await tempDir();
  const syncer = new DirSyncer();
  const first = syncer.sync(dir);
  t.is(syncer.sync(dir), first, 'not started yet: shared');
  await new Promise((resolve) => setImmediate(resolve));
  const second = syncer.sync(dir);
  t.not(second, first, 'the first has started: a rename after it needs another fsync');
  t.is(syncer.sync(dir), second);
  await Promise.all([first, second]);
  await t.throwsAsync(syncer.sync(path.join(dir, 'missing')), { code: 'ENOENT' });
});

test('durable writers: early flushes run one at a time across the store (fdatasync holds a libuv thread); data intact', async (t) => {
  const root = path.join(await tempDir(), 'early.zarr');
  const faulty = new FaultyFs(root, undefined, (op) => (op.op === 'datasync' ? 30 : 0));
  let running = 0;
  let most = 0;
  let flushed = 0;
  const fs: FileOps = {
    rename: (from, to) => faulty.rename(from, to),
    unlink: (file) => faulty.unlink(file),
    mkdir: (dir, options) => faulty.mkdir(dir, options),
    async open(file, flags) {
      const fh = await faulty.open(file, flags);
      const datasync = async (): Promise<void> => {
        most = Math.max(most, ++running);
        try {
          await fh.datasync();
        } finally {
          running--;
          flushed++;
        }
      };
      return { ...fh, datasync };
    },
  };
  const store = new FileSystemStore(root, { fs });
  // Past 8 MiB, each writer would start an early flush at once.
  const value = randomBytes(9 * 2 ** 20);
  const writers = ['a', 'b', 'c'].map((key) => store.createWriter(key));
  await Promise.all(writers.map((writer) => writer.append(value)));
  // An early flush starts once its write has landed, after the append resolved: wait for it (1 s at most).
  for (let i = 0; i < 200 && (flushed === 0 || running > 0); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  t.true(flushed > 0, 'an early flush ran');
  t.is(most, 1, 'one early flush at a time');
  await Promise.all(writers.map((writer) => writer.commit()));
  for (const key of ['a', 'b', 'c']) t.is(firstDifference((await store.get(key))!, value), -1, key);
  await rm(path.dirname(root), { recursive: true, force: true });
});
