/**
 * What an installation says about itself: `zarr-stream --version`, and the one warning given when an engine falls
 * back (npm hides the install step's own report). A missing addon is simulated with the addon path variables.
 */
import test from 'ava';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeEngineAvailable } from '../src/codecs/engine.js';
import { nativeKernels } from '../src/downsample/native-kernels.js';
import { makeFrames, firstDifference, tempDir } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';
import { cli } from './helpers/cli.js';

const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));
const MISSING = { ZARR_STREAM_BLOSC_ADDON: '/nonexistent/blosc_addon.node', ZARR_STREAM_PIXELS_ADDON: '/nonexistent/pixels_addon.node' };


test('--version --json: the package version and the engines this installation really loads', async (t) => {
  const run = await cli(['--version', '--json']);
  t.is(run.code, 0, run.stderr);
  const status = JSON.parse(run.stdout);
  t.is(status.version, JSON.parse(await readFile(PACKAGE_JSON, 'utf8')).version);
  t.is(status.node, process.version);
  t.is(status.blosc.engine, nativeEngineAvailable() ? 'native' : 'wasm');
  if (status.blosc.engine === 'native') t.regex(status.blosc.bloscVersion, /^\d+\.\d+\.\d+/);
  t.is(status.pixelKernels.engine, nativeKernels() ? 'native' : 'javascript');
});

test('--version without the addons: says wasm and javascript, why, and the command that builds them', async (t) => {
  const run = await cli(['--version'], { env: MISSING });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^zarr-stream \d+\.\d+\.\d+ \(Node v/);
  t.regex(run.stdout, /blosc engine: wasm \(numcodecs\); native engine not loaded: Cannot find module '\/nonexistent\/blosc_addon\.node'/);
  t.regex(run.stdout, /apt-get install libblosc-dev && node ".*scripts\/build-native\.mjs"/);
  t.regex(run.stdout, /pyramid kernels: javascript; native kernels not loaded: Cannot find module/);
});

test('a write that falls back to WebAssembly warns once, names the fix, and still writes every pixel', async (t) => {
  const dir = await tempDir('zs-fallback-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'fallback.zarr');
  const args = ['write', out, '--frames', '6', '--width', '64', '--height', '48', '--dtype', 'uint16', '--compression', 'lz4', '--tile-width', '32', '--tile-height', '32', '--multiscale'];
  const run = await cli(args, { env: MISSING });
  t.is(run.code, 0, run.stderr);
  const blosc = run.stderr.match(/ZARR_STREAM_NO_NATIVE_BLOSC/g) ?? [];
  const kernels = run.stderr.match(/ZARR_STREAM_NO_NATIVE_KERNELS/g) ?? [];
  t.is(blosc.length, 1, run.stderr);
  t.is(kernels.length, 1, run.stderr);
  t.regex(run.stderr, /slower WebAssembly engine\. To build it: apt-get install libblosc-dev && node ".*build-native\.mjs"/);
  t.regex(run.stdout, /wasm engine/);
  const back = await readWithZarrita(out);
  t.is(firstDifference(back.bytes, makeFrames(6, 64, 48, 1, 'uint16').bytes), -1);
});

test('a write with the native engine gives no fallback warning', async (t) => {
  if (!nativeEngineAvailable() || !nativeKernels()) {
    t.log('native addons not built here: nothing to check');
    t.pass();
    return;
  }
  const dir = await tempDir('zs-native-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const run = await cli(['write', path.join(dir, 'n.zarr'), '--frames', '4', '--width', '64', '--height', '48', '--compression', 'lz4', '--multiscale', '--tile-width', '32', '--tile-height', '32']);
  t.is(run.code, 0, run.stderr);
  t.notRegex(run.stderr, /ZARR_STREAM_NO_NATIVE/);
});
