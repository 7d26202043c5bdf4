/** The zarr-stream command line, run as a user runs it. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeFrames, tempDir, firstDifference } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';
import { cli, CLI } from './helpers/cli.js';



test('write: synthetic frames with every chunking flag, read back by zarrita.js', async (t) => {
  const dir = await tempDir();
  const out = path.join(dir, 'cli.zarr');
  const run = await cli(['write', out, '--frames', '5', '--width', '40', '--height', '30', '--planes', '2', '--dtype', 'int16', '--zarr-version', '2',
    '--tile-width', '16', '--tile-height', '16', '--tile-planes', '1', '--max-bytes-per-chunk', '16MiB', '--frames-per-chunk', '2', '--json']);
  t.is(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  t.deepEqual(summary.shape, [5, 2, 30, 40]);
  t.deepEqual(summary.chunks, [2, 1, 16, 16]);
  t.is(summary.chunkFiles, 3 * 2 * 2 * 3);
  const back = await readWithZarrita(out);
  t.is(firstDifference(back.bytes, makeFrames(5, 40, 30, 2, 'int16').bytes), -1);
});

test('bad flags: one line naming the flag and value, non-zero exit, nothing written', async (t) => {
  const dir = await tempDir();
  const out = path.join(dir, 'never.zarr');
  const cases: Array<[string[], RegExp]> = [
    [['--width', '-5'], /--width must be an integer >= 1, got "-5"/],
    [['--frames', 'ten'], /--frames must be an integer >= 0, got "ten"/],
    [['--dtype', 'uint12'], /--dtype must be one of .*got "uint12"/],
    [['--zarr-version', '4'], /--zarr-version must be 2 or 3, got "4"/],
    [['--max-bytes-per-chunk', '64XB'], /--max-bytes-per-chunk must be a size .*got "64XB"/],
    [['--tile-width', '1.5'], /--tile-width must be an integer >= 0, got "1.5"/],
    [['--frames-per-chunk', '0'], /--frames-per-chunk must be an integer >= 1, got "0"/],
    [['--bogus', '1'], /Unknown argument: bogus/],
  ];
  for (const [flags, message] of cases) {
    const run = await cli(['write', out, ...flags]);
    t.is(run.code, 2, flags.join(' '));
    t.regex(run.stderr, message);
    t.regex(run.stderr, /^zarr-stream: error: [^\n]+\n$/);
    t.false(existsSync(out), flags.join(' '));
  }
});

test('--multiscale writes a pyramid with the OME scales of --pixel-scale-x/-y', async (t) => {
  const dir = await tempDir();
  const out = path.join(dir, 'pyramid.zarr');
  const run = await cli(['write', out, '--frames', '4', '--width', '64', '--height', '48', '--tile-width', '16', '--tile-height', '16', '--multiscale',
    '--pixel-scale-x', '0.65', '--pixel-scale-y', '0.5', '--downsample-method', 'max', '--json']);
  t.is(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  t.deepEqual(summary.levels.map((level: { shape: number[] }) => level.shape), [[4, 1, 48, 64], [2, 1, 24, 32], [1, 1, 12, 16]]);
  const root = JSON.parse(await readFile(path.join(out, 'zarr.json'), 'utf8'));
  const multiscale = root.attributes.ome.multiscales[0];
  t.is(multiscale.type, 'max');
  t.deepEqual(multiscale.datasets[2].coordinateTransformations[0].scale, [4, 1, 2, 2.6]);
  t.deepEqual((await readWithZarrita(out, '2')).shape, [1, 1, 12, 16]);
  const bad = await cli(['write', path.join(dir, 'bad.zarr'), '--pixel-scale-x', '-1']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--pixel-scale-x must be a positive number, got "-1"/);
  const badMethod = await cli(['write', path.join(dir, 'bad.zarr'), '--downsample-method', 'median']);
  t.regex(badMethod.stderr, /--downsample-method must be one of mean, min, max, decimate, got "median"/);
});

test('--device, --compression, --clevel, --shuffle and --workers set the codec; --json names the engine', async (t) => {
  const dir = await tempDir();
  const out = path.join(dir, 'blosc.zarr');
  const run = await cli(['write', out, '--frames', '3', '--width', '40', '--height', '30', '--device', 'ZarrBlosc1Lz4ByteShuffle', '--compression', 'zstd',
    '--clevel', '4', '--shuffle', 'bit', '--workers', '1', '--json']);
  t.is(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  t.like(summary.compression, { id: 'blosc', cname: 'zstd', clevel: 4, shuffle: 2, workers: 1 });
  t.true(['native', 'wasm'].includes(summary.compression.engine));
  // Chunks this small are compressed whole; 64 KiB tiles in 16 MiB chunks are compressed as frames arrive.
  t.deepEqual(summary.compression.streamedLevels, []);
  t.is(summary.zarrVersion, 2);
  t.is(firstDifference((await readWithZarrita(out)).bytes, makeFrames(3, 40, 30, 1, 'uint16').bytes), -1);
  const streamedOut = path.join(dir, 'streamed.zarr');
  const streamed = await cli(['write', streamedOut, '--frames', '40', '--width', '256', '--height', '128', '--tile-width', '256', '--tile-height', '128',
    '--compression', 'lz4', '--workers', '2']);
  t.is(streamed.code, 0, streamed.stderr);
  t.regex(streamed.stdout, /engine on 2 worker threads, compressed as frames arrive \(levels 0\)/);
  t.is(firstDifference((await readWithZarrita(streamedOut)).bytes, makeFrames(40, 256, 128, 1, 'uint16').bytes), -1);
  const cases: Array<[string[], RegExp]> = [
    [['--device', 'Foo'], /--device must be one of Zarr, .*got "Foo"/],
    [['--compression', 'snappy'], /--compression must be one of lz4, zstd, blosclz, zlib, got "snappy"/],
    [['--compression', 'lz4', '--clevel', '10'], /--clevel must be an integer 0..9, got 10/],
    [['--compression', 'lz4', '--shuffle', 'word'], /--shuffle must be one of none, byte, bit, got "word"/],
    [['--compression', 'lz4', '--workers', '0'], /--workers must be an integer >= 1, got "0"/],
    [['--compression', 'lz4', '--engine', 'gpu'], /--engine must be one of auto, native, wasm, got "gpu"/],
    [['--device', 'ZarrV3', '--zarr-version', '2'], /--zarr-version must be 3 with device "ZarrV3"/],
  ];
  for (const [flags, message] of cases) {
    const bad = await cli(['write', path.join(dir, 'never.zarr'), ...flags]);
    t.is(bad.code, 2, flags.join(' '));
    t.regex(bad.stderr, message);
    t.false(existsSync(path.join(dir, 'never.zarr')));
  }
});

test('--help prints the flags and writes nothing', async (t) => {
  const dir = await tempDir();
  for (const args of [['demo', '--help'], ['write', 'x.zarr', '--help'], ['--help']]) {
    const run = await cli(args, { cwd: dir });
    t.is(run.code, 0, args.join(' '));
    t.regex(run.stdout, /--frames|Commands:/);
    t.false(existsSync(path.join(dir, 'demo.zarr')) || existsSync(path.join(dir, 'x.zarr')), args.join(' '));
  }
});

test('a chunk beyond 2 GiB is refused, naming the flag that made it', async (t) => {
  const dir = await tempDir();
  // Enough frames that the chunk is not capped at the frame count.
  const run = await cli(['write', path.join(dir, 'big.zarr'), '--max-bytes-per-chunk', '3GiB', '--frames', '100000']);
  t.is(run.code, 2);
  t.regex(run.stderr, /--max-bytes-per-chunk must be small enough that a chunk stays below 2 GiB/);
});

test('Ctrl-C stops the write: exit 130, the stored chunk rows readable, no temporary files', async (t) => {
  const dir = await tempDir();
  const out = path.join(dir, 'interrupted.zarr');
  const child = spawn(process.execPath, [CLI, 'write', out, '--frames', '100000', '--width', '256', '--height', '256', '--frames-per-chunk', '4', '--zarr-version', '2']);
  let stderr = '';
  child.stderr.on('data', (data) => (stderr += data));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Interrupt once some chunk rows are on disk.
  const zarray = path.join(out, '0', '.zarray');
  for (let i = 0; i < 4000; i++) {
    const shape = existsSync(zarray) ? JSON.parse(await readFile(zarray, 'utf8')).shape[0] : 0;
    if (shape >= 8) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  child.kill('SIGINT');
  t.is(await exited, 130, stderr);
  t.regex(stderr, /interrupted: \d+ of 100000 frames are stored and readable/);
  const back = await readWithZarrita(out);
  t.true(back.shape[0] >= 8 && back.shape[0] % 4 === 0, `shape ${back.shape}`);
  t.is(firstDifference(back.bytes, makeFrames(back.shape[0], 256, 256, 1, 'uint16').bytes), -1);
  const files = (await readdir(out, { recursive: true })).map(String);
  t.false(files.some((file) => file.includes('.partial')), files.filter((file) => file.includes('.partial')).join(' '));
});

test('a small --max-bytes-per-chunk warns that it was raised to 16 MiB', async (t) => {
  const dir = await tempDir();
  const run = await cli(['write', path.join(dir, 'w.zarr'), '--frames', '1', '--width', '8', '--height', '8', '--max-bytes-per-chunk', '1KiB', '--json']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /warning: maxBytesPerChunk 1024 is below the 16 MiB minimum/);
});

test('write refuses a non-empty directory without --overwrite', async (t) => {
  const dir = await tempDir();
  const out = path.join(dir, 'twice.zarr');
  t.is((await cli(['write', out, '--frames', '1', '--width', '8', '--height', '8'])).code, 0);
  const again = await cli(['write', out, '--frames', '1', '--width', '8', '--height', '8']);
  t.is(again.code, 1);
  t.regex(again.stderr, /store .*twice\.zarr is not empty; pass overwrite: true \(--overwrite\) to replace it/);
  t.is((await cli(['write', out, '--frames', '2', '--width', '8', '--height', '8', '--overwrite'])).code, 0);
  t.deepEqual((await readWithZarrita(out)).shape, [2, 1, 8, 8]);
});

test('demo writes demo.zarr, says what it wrote and how to open it; a rerun replaces it', async (t) => {
  const dir = await tempDir();
  const run = await cli(['demo'], { cwd: dir });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /wrote .*demo\.zarr \(Zarr v3\): array "0" of shape \(t, c, y, x\) = \(64, 1, 1024, 1024\), uint16/);
  t.regex(run.stdout, /zarr-python/);
  t.regex(run.stdout, /zarrita/);
  const back = await readWithZarrita(path.join(dir, 'demo.zarr'));
  t.deepEqual(back.shape, [64, 1, 1024, 1024]);
  t.is(firstDifference(back.bytes, makeFrames(64, 1024, 1024, 1, 'uint16').bytes), -1);
  const rerun = await cli(['demo'], { cwd: dir });
  t.is(rerun.code, 0, rerun.stderr);
  t.regex(rerun.stderr, /replacing the earlier dataset/);
});

test('--help speaks the user\'s words: each flag\'s kind and default, no [string], devices named as acquire-driver-zarr names', async (t) => {
  const help = await cli(['write', '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /--frames\s+number of synthetic frames; at most this many from\s+--input \[integer, default: 128\]/);
  t.regex(help.stdout, /--max-bytes-per-chunk\s+raw bytes per chunk .*\n?.*\[size, default: 64MiB\]/);
  t.regex(help.stdout, /--device\s+an acquire-driver-zarr device name/);
  t.notRegex(help.stdout, /\[string\]|seed device/);
  const demo = await cli(['demo', '--help']);
  t.regex(demo.stdout, /\[integer, default: 64\]/);
});
