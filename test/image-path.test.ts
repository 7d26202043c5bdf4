/** Several images in one store (the `path` option): each below the root, the root a valid group never clobbered. */
import test from 'ava';
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { ZarrSink } from '../src/sinks/zarr-sink.js';
import { OptionError } from '../src/options.js';
import { imagePathProblem, parentPaths, PrefixedStore, storeAt } from '../src/stores/prefixed-store.js';
import { FileSystemStore } from '../src/stores/fs-store.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import type { Store } from '../src/stores/store.js';
import { firstDifference, makeFrames, source, tempDir } from './helpers/frames.js';
import { readWithPython, readWithZarrita, requirePythonZarr } from './helpers/readers.js';
import { startS3 } from './helpers/s3-server.js';
import * as zarr from 'zarrita';
import { validateV2, validateV3 } from './helpers/ngff-schemas.js';
import { cli } from './helpers/cli.js';

const BASE = { dtype: 'uint16', height: 16, chunking: { tileWidth: 16, tileHeight: 16, framesPerChunk: 2 } } as const;
const readJson = async (file: string): Promise<any> => JSON.parse(await readFile(file, 'utf8'));

test('imagePathProblem: relative names separated by "/", none empty, dotted, reserved or a metadata document', (t) => {
  for (const good of ['pos0', 'A/1/0', 'well_B2', 'c', '0']) t.is(imagePathProblem(good), undefined, good);
  const bad: Array<[unknown, RegExp]> = [
    ['', /non-empty/],
    [3, /non-empty string/],
    ['/pos0', /leading or trailing/],
    ['pos0/', /leading or trailing/],
    ['A//0', /empty path segment/],
    ['A/../B', /".." segments/],
    ['A\\B', /backslashes/],
    ['zarr.json', /Zarr metadata documents \("zarr.json"\)/],
    ['A/.zattrs', /Zarr metadata documents/],
    ['__x', /reserved by Zarr v3/],
    ['.hidden/a', /start with "\."/],
  ];
  for (const [value, reason] of bad) t.regex(imagePathProblem(value) ?? 'accepted', reason, String(value));
  t.deepEqual(parentPaths('A/1/0'), ['', 'A', 'A/1']);
  t.deepEqual(parentPaths('pos0'), ['']);
});

test('the path option is checked before anything exists: an OptionError naming it', (t) => {
  const store = new MemoryStore();
  for (const value of ['/pos0', 'a/../b', 'x/zarr.json', 7]) {
    const error = t.throws(() => zarrTransforms({ ...BASE, width: 16, store, path: value as string }), { instanceOf: OptionError });
    t.is(error?.field, 'path');
    t.regex(error!.message, /^path must be /);
  }
  t.is(store.map.size, 0);
  // A sink built by hand checks it too.
  t.throws(() => new ZarrSink({ store, zarrVersion: 3, layouts: [], path: 'a/' }), { instanceOf: TypeError, message: 'path must be relative: no leading or trailing "/", got "a/"' });
});

/** Writes `frames` frames of width `width` at `imagePath`; what went in comes back for comparison. */
async function writeImage(store: string, imagePath: string, zarrVersion: 2 | 3, width: number, frames = 5, overwrite = false): Promise<Uint8Array> {
  const set = makeFrames(frames, width, 16, 1, 'uint16');
  await pipeline(source(set.frames), ...zarrTransforms({ ...BASE, width, store, zarrVersion, path: imagePath, multiscale: true, name: imagePath, overwrite }));
  return set.bytes;
}

for (const zarrVersion of [2, 3] as const) {
  test(`v${zarrVersion}: two pipelines into one directory at once (pos0, pos1); overwrite of pos0 leaves pos1; the same path twice is locked`, async (t) => {
    const dir = await tempDir();
    try {
      const store = path.join(dir, 'plate.zarr');
      // Different widths, so neither image can pass for the other.
      const [pos0, pos1] = await Promise.all([writeImage(store, 'pos0', zarrVersion, 40), writeImage(store, 'pos1', zarrVersion, 24, 7)]);
      const check = async (imagePath: string, expected: Uint8Array, width: number): Promise<void> => {
        const back = await readWithZarrita(store, `${imagePath}/0`);
        t.is(back.shape[3], width);
        t.is(firstDifference(back.bytes, expected), -1, `${imagePath}: first differing byte`);
        const attributes = zarrVersion === 2 ? await readJson(path.join(store, imagePath, '.zattrs')) : (await readJson(path.join(store, imagePath, 'zarr.json'))).attributes;
        const { ok, errors } = zarrVersion === 2 ? validateV2(attributes) : validateV3(attributes);
        t.true(ok, `${imagePath}: ${errors}`);
        if (zarrVersion === 2 && (await requirePythonZarr(t.log))) {
          const python = await readWithPython(store, `${imagePath}/0`);
          t.is(firstDifference(python.bytes, expected), -1, `${imagePath}: zarr-python`);
        }
      };
      await check('pos0', pos0, 40);
      await check('pos1', pos1, 24);
      const root = zarrVersion === 2 ? await readJson(path.join(store, '.zgroup')) : await readJson(path.join(store, 'zarr.json'));
      t.deepEqual(root, zarrVersion === 2 ? { zarr_format: 2 } : { zarr_format: 3, node_type: 'group', attributes: {} });
      const rootBefore = await readFile(path.join(store, zarrVersion === 2 ? '.zgroup' : 'zarr.json'));
      const pos1Files = await readFile(path.join(store, 'pos1', '0', zarrVersion === 2 ? '.zarray' : 'zarr.json'));

      // Without overwrite, pos0 is refused, naming its path; with it, pos0 alone is replaced.
      await t.throwsAsync(writeImage(store, 'pos0', zarrVersion, 40), { message: /pos0 is not empty; pass overwrite: true/ });
      const again = await writeImage(store, 'pos0', zarrVersion, 32, 3, true);
      await check('pos0', again, 32);
      await check('pos1', pos1, 24);
      t.deepEqual(await readFile(path.join(store, 'pos1', '0', zarrVersion === 2 ? '.zarray' : 'zarr.json')), pos1Files);
      t.deepEqual(await readFile(path.join(store, zarrVersion === 2 ? '.zgroup' : 'zarr.json')), rootBefore);

      // Two writers at one path: the second fails on the lock, naming the path.
      const results = await Promise.allSettled([writeImage(store, 'pos2', zarrVersion, 16), writeImage(store, 'pos2', zarrVersion, 16)]);
      const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      t.is(failures.length, 1, JSON.stringify(results));
      t.regex((failures[0]!.reason as Error).message, /store \S*plate\.zarr\/pos2 is locked by another writer/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('a nested path makes each node above it a group, and never replaces a group document that is there', async (t) => {
  const dir = await tempDir();
  try {
    const store = path.join(dir, 'hcs.zarr');
    // A root group with attributes of its own (a plate's, say): kept byte for byte.
    await mkdir(store);
    const rootDocument = JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: { plate: { name: 'P1' } } });
    await writeFile(path.join(store, 'zarr.json'), rootDocument);
    const expected = await writeImage(store, 'A/1/0', 3, 16);
    t.is(await readFile(path.join(store, 'zarr.json'), 'utf8'), rootDocument);
    for (const node of ['A', 'A/1']) t.deepEqual(await readJson(path.join(store, node, 'zarr.json')), { zarr_format: 3, node_type: 'group', attributes: {} }, node);
    t.is(firstDifference((await readWithZarrita(store, 'A/1/0/0')).bytes, expected), -1);
    // The other Zarr version, or an array above the path, is refused before any image key is written.
    await t.throwsAsync(writeImage(store, 'A/2/0', 2, 16), { message: /cannot write an image at "A\/2\/0": the store root is a Zarr v3 node \(zarr\.json\); write it with zarrVersion 3/ });
    await t.throwsAsync(writeImage(store, 'A/1/0/0/x', 3, 16), { message: /cannot write an image at "A\/1\/0\/0\/x": "A\/1\/0\/0" is not a Zarr group/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('FileSystemStore.setIfAbsent: of two at once, one creates; an existing file is left as it is', async (t) => {
  const dir = await tempDir();
  try {
    const store = new FileSystemStore(dir);
    const results = await Promise.all([store.setIfAbsent('g/zarr.json', new Uint8Array([1])), store.setIfAbsent('g/zarr.json', new Uint8Array([2]))]);
    t.deepEqual([...results].sort(), [false, true]);
    t.deepEqual([...(await readFile(path.join(dir, 'g', 'zarr.json')))], [results[0] ? 1 : 2]);
    t.false(await store.setIfAbsent('g/zarr.json', new Uint8Array([3])));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('MemoryStore.at and PrefixedStore: keys below the path; emptiness and clear concern it only', async (t) => {
  const memory = new MemoryStore();
  await memory.set('pos1/zarr.json', new Uint8Array([1]));
  const pos0 = storeAt(memory, 'pos0');
  t.true(await pos0.isEmpty!());
  await pos0.set('0/zarr.json', new Uint8Array([2]));
  t.false(await pos0.isEmpty!());
  await pos0.clear!();
  t.deepEqual([...memory.map.keys()], ['pos1/zarr.json']);
  // A store without at(): keys are prefixed, and nothing that would concern the whole store is offered.
  const plain: Store = { set: (key, value) => memory.set(key, value), get: (key) => memory.get(key) };
  const view = storeAt(plain, 'A/1');
  t.true(view instanceof PrefixedStore);
  t.is(view.isEmpty, undefined);
  t.is(view.clear, undefined);
  t.is(view.lock, undefined);
  await view.set('zarr.json', new Uint8Array([3]));
  t.deepEqual(await memory.get('A/1/zarr.json'), new Uint8Array([3]));
});



test('CLI: two processes write --path pos0 and pos1 into one directory at once; a bad --path is named; demo has no --path', async (t) => {
  const dir = await tempDir();
  try {
    const out = path.join(dir, 'two.zarr');
    const flags = (imagePath: string, width: string): string[] => ['write', out, '--path', imagePath, '--frames', '3', '--width', width, '--height', '16', '--tile-width', '16', '--tile-height', '16', '--json'];
    const [a, b] = await Promise.all([cli(flags('pos0', '32')), cli(flags('pos1', '48'))]);
    t.is(a.code, 0, a.stderr);
    t.is(b.code, 0, b.stderr);
    t.is(JSON.parse(a.stdout).array, 'pos0/0');
    t.is(firstDifference((await readWithZarrita(out, 'pos0/0')).bytes, makeFrames(3, 32, 16, 1, 'uint16').bytes), -1);
    t.is(firstDifference((await readWithZarrita(out, 'pos1/0')).bytes, makeFrames(3, 48, 16, 1, 'uint16').bytes), -1);
    t.deepEqual(await readJson(path.join(out, 'zarr.json')), { zarr_format: 3, node_type: 'group', attributes: {} });
    const bad = await cli(flags('pos0/', '32'));
    t.is(bad.code, 2, bad.stderr);
    t.regex(bad.stderr, /--path must be relative: no leading or trailing "\/", got "pos0\/"/);
    const demo = await cli(['demo', path.join(dir, 'demo.zarr'), '--path', 'pos0', '--frames', '1', '--width', '16', '--height', '16']);
    t.is(demo.code, 2, demo.stderr);
    t.regex(demo.stderr, /--path is for write/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('S3: two images at two paths of one prefix at once; overwrite of one leaves the other object for object', async (t) => {
  const s3 = await startS3();
  try {
    const bucket = await s3.newBucket();
    const store = `s3://${bucket}/plate.zarr`;
    const write = async (imagePath: string, width: number, overwrite = false): Promise<Uint8Array> => {
      const set = makeFrames(3, width, 16, 1, 'uint16');
      await pipeline(source(set.frames), ...zarrTransforms({ ...BASE, width, store, s3: { endpoint: s3.endpoint }, path: imagePath, overwrite }));
      return set.bytes;
    };
    const [, pos1] = await Promise.all([write('pos0', 32), write('pos1', 48)]);
    const before = await s3.objects(bucket, 'plate.zarr');
    t.true(before.has('zarr.json'));
    await t.throwsAsync(write('pos0', 32), { message: /plate\.zarr\/pos0 is not empty/ });
    const pos0 = await write('pos0', 16, true);
    const after = await s3.objects(bucket, 'plate.zarr');
    for (const [key, bytes] of before) if (!key.startsWith('pos0/')) t.deepEqual(after.get(key), bytes, key);
    const http = new zarr.FetchStore(`${s3.endpoint}/${bucket}/plate.zarr`) as zarr.Readable;
    t.is(firstDifference((await readWithZarrita(http, 'pos0/0')).bytes, pos0), -1);
    t.is(firstDifference((await readWithZarrita(http, 'pos1/0')).bytes, pos1), -1);
  } finally {
    await s3.stop();
  }
});
