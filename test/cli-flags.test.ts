/** Command-line flags a user gets wrong, and paths a user may name: refused with a clear line before anything is written. */
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseSize } from '../src/cli/sizes.js';
import { cli, CLI } from './helpers/cli.js';

const SMALL = ['--width', '8', '--height', '8', '--tile-width', '4', '--tile-height', '4'];


async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zs-cli-flags-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a flag given without a value is refused, not replaced by its default', async (t) => {
  const dir = await scratch(t);
  const out = path.join(dir, 'never.zarr');
  const cases: Array<[string[], RegExp]> = [
    [['write', out, ...SMALL, '--frames'], /--frames needs a value/],
    [['write', out, ...SMALL, '--dtype'], /--dtype needs a value/],
    [['write', out, '--dtype', ...SMALL], /--dtype needs a value/],
    [['write', out, ...SMALL, '--frames='], /--frames needs a value/],
    [['write', out, ...SMALL, '--compression', '--frames', '2'], /--compression needs a value/],
  ];
  for (const [args, message] of cases) {
    const run = await cli(args);
    t.is(run.code, 2, args.join(' '));
    t.regex(run.stderr, message, args.join(' '));
    t.regex(run.stderr, /^zarr-stream: error: [^\n]+\n$/);
    t.false(existsSync(out), args.join(' '));
  }
});

test('a flag given twice is reported as such', async (t) => {
  const dir = await scratch(t);
  const out = path.join(dir, 'never.zarr');
  const run = await cli(['write', out, ...SMALL, '--workers', '4', '--workers', '5']);
  t.is(run.code, 2);
  t.regex(run.stderr, /--workers was given 2 times \("4", "5"\); give it once/);
  t.notRegex(run.stderr, /\[/);
  const twice = await cli(['write', out, '--width', '8', '--height', '8', '--tile-width', '2', '--tileWidth', '4']);
  t.regex(twice.stderr, /--tile-width was given 2 times/);
  t.false(existsSync(out));
});

test('write -- -x.zarr: an output path that starts with "-" after --', async (t) => {
  const dir = await scratch(t);
  const run = await cli(['write', ...SMALL, '--frames', '2', '--json', '--', '-x.zarr'], { cwd: dir, timeout: 20_000 });
  t.is(run.code, 0, run.stderr);
  t.is(JSON.parse(run.stdout).store, path.join(dir, '-x.zarr'));
  t.true(existsSync(path.join(dir, '-x.zarr', 'zarr.json')));
  const none = await cli(['write', ...SMALL]);
  t.is(none.code, 2);
  t.regex(none.stderr, /Missing required argument: out/);
  const two = await cli(['write', ...SMALL, '--', 'a.zarr', 'b.zarr'], { cwd: dir, timeout: 20_000 });
  t.is(two.code, 2);
  t.regex(two.stderr, /one output directory, got 2/);
});

test('sizes up to TiB are accepted', (t) => {
  t.is(parseSize('1TiB'), 2 ** 40);
  t.is(parseSize('2tb'), 2e12);
  t.is(parseSize('1T'), 2 ** 40);
  t.is(parseSize('1PiB'), undefined);
});

test('an output path under /proc or /sys is refused at once with the reason', async (t) => {
  for (const out of ['/proc/zs-test.zarr', '/sys/zs-test/x.zarr']) {
    const run = await cli(['write', out, ...SMALL, '--frames', '1']);
    t.is(run.code, 2, `${out}: ${run.stderr}`);
    t.regex(run.stderr, /virtual filesystem/);
    t.false(existsSync(out));
  }
});

test('frames of 1e9 x 1e9 pixels are refused at once with the numbers, not after listing their tiles', async (t) => {
  const dir = await scratch(t);
  const out = path.join(dir, 'never.zarr');
  const run = await cli(['write', out, '--width', '1000000000', '--height', '1000000000']);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /a frame of 1000000000 x 1000000000 x 1 uint16 pixels is [\d.]+ EiB, more than the 4.00 GiB a buffer can hold: --width must be smaller/);
  t.false(existsSync(out));
});

test('--max-memory takes a size up to TiB and refuses options estimated above it, with the numbers', async (t) => {
  const dir = await scratch(t);
  const low = await cli(['write', path.join(dir, 'never.zarr'), ...SMALL, '--frames', '1', '--max-memory', '1MiB']);
  t.is(low.code, 2, low.stderr);
  t.regex(low.stderr, /these options need an estimated [\d.]+ MiB of memory \(.*\), more than --max-memory 1.00 MiB/);
  t.false(existsSync(path.join(dir, 'never.zarr')));
  const high = await cli(['write', path.join(dir, 'ok.zarr'), ...SMALL, '--frames', '1', '--max-memory', '1TiB']);
  t.is(high.code, 0, high.stderr);
});

/** A read-only tmpfs mounted in a private mount namespace; undefined where this system cannot make one. */
function readOnlyMountAvailable(): boolean {
  try {
    execFileSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o ro none "$d" && umount "$d" && rmdir "$d"'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs `mount` (a shell command on "$1", the directory) and then the CLI, in a private mount namespace. */
function cliAfterMount(dir: string, mount: string, out: string): Promise<{ code: number; stderr: string }> {
  const script = `${mount} && exec "${process.execPath}" "${CLI}" write "${out}" ${SMALL.join(' ')} --frames 1`;
  return new Promise((resolve) => {
    execFile('unshare', ['-rm', 'sh', '-c', script, 'sh', dir], { timeout: 20_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (error.killed ? -1 : Number(error.code ?? 1)) : 0, stderr });
    });
  });
}

const roTest = readOnlyMountAvailable() ? test : test.skip;
roTest('on a read-only mount the error says read-only and names the path, not ENOENT', async (t) => {
  const dir = await scratch(t);
  const result = await cliAfterMount(dir, 'mount -t tmpfs -o ro none "$1"', `${dir}/sub/x.zarr`);
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /read-only filesystem \(EROFS\)/);
  t.regex(result.stderr, new RegExp(`${dir}/sub`));
  t.notRegex(result.stderr, /ENOENT/);
  t.deepEqual(await readdir(dir), []);
});

roTest('a store on a virtual filesystem mounted elsewhere (statfs says proc) is refused instead of looping in mkdir', async (t) => {
  const dir = await scratch(t);
  const result = await cliAfterMount(dir, 'mount --rbind /proc "$1"', `${dir}/x.zarr`);
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /is on a virtual filesystem \(proc\)/);
});
