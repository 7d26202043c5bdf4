/**
 * The store's lifecycle: nothing happens until the stream runs; one writer at a time (a lock file); overwrite
 * replaces only a Zarr store and only its Zarr keys; a path is checked and written at the same real location.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { sinkOf, zarrTransforms } from '../src/zarr-transforms.js';
import { OptionError, type ZarrStreamOptions } from '../src/options.js';
import { FileSystemStore } from '../src/stores/fs-store.js';
import type { DType } from '../src/dtype.js';
import { firstDifference, makeFrames, source, tempDir } from './helpers/frames.js';
import { openWithZarrita, readWithZarrita } from './helpers/readers.js';
import { cli } from './helpers/cli.js';

const LOCK = '.zarr-stream.lock';
const OPTIONS = { dtype: 'uint16', width: 16, height: 8, chunking: { framesPerChunk: 2 } } as const;


/** Every file and directory under `dir`, relative, sorted: a before/after picture. */
async function listing(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

async function write(store: string, frames = 3, extra: Partial<ZarrStreamOptions> = {}): Promise<Uint8Array> {
  const set = makeFrames(frames, 16, 8, 1, 'uint16');
  await pipeline(source(set.frames), ...zarrTransforms({ ...OPTIONS, store, ...extra }));
  return set.bytes;
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a chain that is built and dropped touches nothing: no directory made, nothing cleared', async (t) => {
  const dir = await tempDir();
  const fresh = path.join(dir, 'new.zarr');
  zarrTransforms({ ...OPTIONS, store: fresh });
  const existing = path.join(dir, 'old.zarr');
  await write(existing);
  const before = await listing(existing);
  zarrTransforms({ ...OPTIONS, store: existing, overwrite: true });
  await tick(100);
  t.false(existsSync(fresh), 'the new path was not created');
  t.deepEqual(await listing(existing), before, 'the existing store was not cleared or rewritten');
});

test('a non-empty store is refused by the running pipeline (not at construction), and left as it was', async (t) => {
  const dir = await tempDir();
  await write(dir);
  const before = await listing(dir);
  const chain = zarrTransforms({ ...OPTIONS, store: dir });
  await t.throwsAsync(pipeline(source([]), ...chain), { message: /is not empty; pass overwrite: true/ });
  t.deepEqual(await listing(dir), before);
});

test('overwrite refuses a directory that is not a Zarr store, naming what is there, and deletes nothing', async (t) => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'main.c'), 'int main(void) { return 0; }\n');
  await writeFile(path.join(dir, '.env'), 'SECRET=1\n');
  await mkdir(path.join(dir, '.git', 'objects'), { recursive: true });
  await writeFile(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  const before = await listing(dir);
  await t.throwsAsync(write(dir, 3, { overwrite: true }), { message: /refusing to overwrite .*: it is not a Zarr store \(holds .*main\.c/ });
  t.deepEqual(await listing(dir), before);
});

test('overwrite refuses a Zarr store that also holds other files, and deletes nothing', async (t) => {
  const dir = await tempDir();
  await write(dir);
  await writeFile(path.join(dir, 'notes.txt'), 'lab notebook');
  await writeFile(path.join(dir, '0', 'analysis.csv'), '1,2,3');
  const before = await listing(dir);
  const error = await t.throwsAsync(write(dir, 3, { overwrite: true }));
  t.regex(error!.message, /refusing to overwrite .*: it holds files that are not Zarr keys \(.*notes\.txt/);
  t.regex(error!.message, /0\/analysis\.csv/);
  t.deepEqual(await listing(dir), before);
});

test('overwrite replaces a Zarr store, its keys and temporaries, v2 over v3', async (t) => {
  const dir = await tempDir();
  await write(dir, 5, { multiscale: true, chunking: { framesPerChunk: 2, tileWidth: 8, tileHeight: 4 } });
  await writeFile(path.join(dir, '0', 'c', '.0.12345.7.partial'), 'leftover of a crash');
  const bytes = await write(dir, 2, { overwrite: true, zarrVersion: 2 });
  t.deepEqual((await listing(dir)).filter((name) => !name.startsWith('0')), ['.zattrs', '.zgroup']);
  t.is(firstDifference((await readWithZarrita(dir)).bytes, bytes), -1);
});

test('a path through a symlink and ".." is checked and written where the OS resolves it', async (t) => {
  const dir = await tempDir();
  // dir/link -> dir/a/real, so dir/link/../x.zarr is dir/a/x.zarr to the OS (and dir/x.zarr only lexically).
  await mkdir(path.join(dir, 'a', 'real'), { recursive: true });
  await symlink(path.join(dir, 'a', 'real'), path.join(dir, 'link'));
  await mkdir(path.join(dir, 'x.zarr'));
  await writeFile(path.join(dir, 'x.zarr', 'keep'), 'not ours');
  const bytes = await write(path.join(dir, 'link') + '/../x.zarr');
  t.deepEqual(await readdir(path.join(dir, 'x.zarr')), ['keep'], 'the lexical path is untouched');
  t.is(firstDifference((await readWithZarrita(path.join(dir, 'a', 'x.zarr'))).bytes, bytes), -1);
});

test('write . --overwrite in a source directory refuses and deletes nothing', async (t) => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'main.c'), 'int main(void) { return 0; }\n');
  await mkdir(path.join(dir, '.git'));
  const before = await listing(dir);
  const run = await cli(['write', '.', '--frames', '1', '--width', '8', '--height', '8', '--overwrite'], { cwd: dir });
  t.not(run.code, 0);
  t.regex(run.stderr, /refusing to overwrite .*: it is not a Zarr store \(holds .*main\.c/);
  t.deepEqual(await listing(dir), before);
});

test("demo replaces only a dataset the demo wrote, never someone else's Zarr store", async (t) => {
  const dir = await tempDir();
  const theirs = path.join(dir, 'other.zarr');
  t.is((await cli(['write', theirs, '--frames', '3', '--width', '8', '--height', '8'])).code, 0);
  const before = await listing(theirs);
  const demo = await cli(['demo', theirs, '--frames', '1', '--width', '8', '--height', '8']);
  t.not(demo.code, 0);
  t.regex(demo.stderr, /not empty/);
  t.deepEqual(await listing(theirs), before);
  t.deepEqual((await readWithZarrita(theirs)).shape, [3, 1, 8, 8]);
  const ours = path.join(dir, 'demo.zarr');
  t.is((await cli(['demo', ours, '--frames', '1', '--width', '8', '--height', '8'])).code, 0);
  const rerun = await cli(['demo', ours, '--frames', '2', '--width', '8', '--height', '8']);
  t.is(rerun.code, 0, rerun.stderr);
  t.deepEqual((await readWithZarrita(ours)).shape, [2, 1, 8, 8]);
});

/** Frames handed out one per event-loop turn, so two writers started together overlap. */
function slowFrames(count: number, dtype: DType): { stream: Readable; bytes: Uint8Array } {
  const set = makeFrames(count, 16, 8, 1, dtype);
  async function* frames() {
    for (const frame of set.frames) {
      await new Promise((resolve) => setImmediate(resolve));
      yield frame;
    }
  }
  return { stream: Readable.from(frames(), { objectMode: true }), bytes: set.bytes };
}

for (const overwrite of [false, true]) {
  test(`two writers (uint16, uint8) to one path${overwrite ? ' with overwrite' : ''}: one fails naming the lock, the store is the other's, intact`, async (t) => {
    const dir = path.join(await tempDir(), 'shared.zarr');
    if (overwrite) await write(dir, 1);
    const a = slowFrames(6, 'uint16');
    const b = slowFrames(6, 'uint8');
    const results = await Promise.allSettled([
      pipeline(a.stream, ...zarrTransforms({ ...OPTIONS, store: dir, overwrite })),
      pipeline(b.stream, ...zarrTransforms({ ...OPTIONS, dtype: 'uint8', store: dir, overwrite })),
    ]);
    const winners = results.flatMap((result, index) => (result.status === 'fulfilled' ? [index] : []));
    t.is(winners.length, 1, `exactly one writer succeeds: ${results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')).join(' | ')}`);
    const loser = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    t.regex(String(loser.reason), /is locked by another writer: .*\.zarr-stream\.lock.*pid \d+ on host/);
    const back = await readWithZarrita(dir);
    const winner = winners[0] === 0 ? a : b;
    t.is(back.dtype, winners[0] === 0 ? 'uint16' : 'uint8');
    t.is(firstDifference(back.bytes, winner.bytes), -1);
    t.false(existsSync(path.join(dir, LOCK)), 'the lock is gone once the winner finished');
  });
}

test('a stale lock of a dead process is reported, not broken, and the store is left alone', async (t) => {
  const dir = await tempDir();
  await write(dir, 1);
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => dead.on('exit', resolve));
  const lock = JSON.stringify({ pid: dead.pid, host: os.hostname(), started: new Date().toISOString() });
  await writeFile(path.join(dir, LOCK), lock);
  const before = await listing(dir);
  await t.throwsAsync(write(dir, 2, { overwrite: true }), { message: new RegExp(`stale lock .*${LOCK}.*pid ${dead.pid} .*no longer running.*remove`) });
  t.deepEqual(await listing(dir), before);
  t.is(await readFile(path.join(dir, LOCK), 'utf8'), lock);
  // After a restart the pid may name some other process: the boot id tells (on Linux).
  if (existsSync('/proc/sys/kernel/random/boot_id')) {
    await writeFile(path.join(dir, LOCK), JSON.stringify({ pid: process.pid, host: os.hostname(), started: '2026-01-01T00:00:00Z', boot: 'an-earlier-boot' }));
    await t.throwsAsync(write(dir, 2, { overwrite: true }), { message: /stale lock .*which ran before this machine restarted/ });
  }
});

test('the lock file is removed after a failed write too, and readers ignore it while it is there', async (t) => {
  const dir = path.join(await tempDir(), 'failing.zarr');
  const frames = makeFrames(3, 16, 8, 1, 'uint16').frames;
  async function* failing() {
    yield* frames;
    await tick(50);
    throw new Error('camera unplugged');
  }
  const chain = zarrTransforms({ ...OPTIONS, store: dir });
  // The store is final, its lock released, when pipeline() rejects (issue 9, defect 5).
  await t.throwsAsync(pipeline(Readable.from(failing()), ...chain), { message: 'camera unplugged' });
  t.true(existsSync(path.join(dir, 'zarr.json')), 'the sink had opened the store');
  t.false(existsSync(path.join(dir, LOCK)));
  t.deepEqual((await listing(dir)).filter((file) => file.endsWith('.partial')), []);
  await writeFile(path.join(dir, LOCK), JSON.stringify({ pid: process.pid, host: os.hostname() }));
  t.deepEqual((await openWithZarrita(dir)).shape.slice(1), [1, 8, 16]);
});

test('durable is on by default, off with durable: false or --no-durable, and must be a boolean', async (t) => {
  t.true((sinkOf(zarrTransforms({ ...OPTIONS, store: 'never.zarr' })).store as FileSystemStore).durable);
  t.false((sinkOf(zarrTransforms({ ...OPTIONS, store: 'never.zarr', durable: false })).store as FileSystemStore).durable);
  t.throws(() => zarrTransforms({ ...OPTIONS, store: 'never.zarr', durable: 'no' as never }), { instanceOf: OptionError, message: /durable must be true or false, got "no"/ });
  const out = path.join(await tempDir(), 'scratch.zarr');
  const run = await cli(['write', out, '--frames', '3', '--width', '8', '--height', '8', '--no-durable']);
  t.is(run.code, 0, run.stderr);
  t.deepEqual((await readWithZarrita(out)).shape, [3, 1, 8, 8]);
});
