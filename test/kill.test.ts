/**
 * SIGKILL at many points of a CLI write, across v2, v3, raw, compressed and multiscale: afterwards every frame the
 * metadata claims reads back exact. Chunks are decoded with numcodecs' Blosc (which verifies what zarrita does
 * not) and compared with a complete write of the same frames; level 0's claimed frames are also read with
 * zarrita.js and compared with the input frames. Temporary files may remain after a kill; readers ignore them.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstDifference, makeFrames, tempDir } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';
import { claimedFrames, filesOf, framesOnDisk, referenceOf, violationIn, type Reference } from './helpers/store-check.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const FRAMES = 240;
const SHAPE = ['--frames', String(FRAMES), '--width', '64', '--height', '64', '--tile-width', '32', '--tile-height', '32', '--frames-per-chunk', '4'];
const KILLS_PER_CONFIG = 8;

const CONFIGS: Array<[string, string[]]> = [
  ['raw v2', ['--zarr-version', '2']],
  ['raw v3', ['--zarr-version', '3']],
  ['lz4 v3', ['--zarr-version', '3', '--compression', 'lz4', '--workers', '1']],
  ['multiscale lz4 v2', ['--zarr-version', '2', '--compression', 'lz4', '--workers', '1', '--multiscale']],
  ['multiscale lz4 v3', ['--zarr-version', '3', '--compression', 'lz4', '--workers', '1', '--multiscale']],
];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Frames level 0's metadata claims now (-1 before it exists). */
async function claimedNow(out: string): Promise<number> {
  for (const name of ['0/.zarray', '0/zarr.json']) {
    const text = await readFile(path.join(out, name), 'utf8').catch(() => undefined);
    if (text) return (JSON.parse(text) as { shape: number[] }).shape[0]!;
  }
  return -1;
}

/**
 * Runs the CLI into `out`. With `killAt`, SIGKILLs it once level 0's metadata claims that many frames (-1: as soon
 * as the store exists), `lag` ms later, so kills land between metadata writes as well as right after them.
 */
async function write(out: string, args: string[], killAt?: number, lag = 0): Promise<{ signal: NodeJS.Signals | null; code: number | null }> {
  const child = spawn(process.execPath, [CLI, 'write', out, ...SHAPE, ...args, '--json'], { stdio: 'ignore' });
  let exited = false;
  const ended = new Promise<{ signal: NodeJS.Signals | null; code: number | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );
  if (killAt !== undefined) {
    while (!exited && !(killAt < 0 ? existsSync(out) : (await claimedNow(out)) >= killAt)) await pause(2);
    if (!exited) {
      await pause(lag);
      child.kill('SIGKILL');
    }
  }
  return ended;
}

const input = makeFrames(FRAMES, 64, 64, 1, 'uint16');
let kills = 0;
/** The most complete level-0 frames on disk that the metadata did not claim yet, at a kill. */
let worstLag = 0;

for (const [name, args] of CONFIGS) {
  test.serial(`SIGKILL during a ${name} write: every claimed frame reads back exact`, async (t) => {
    const dir = await tempDir('zs-kill-');
    try {
      const complete = await write(path.join(dir, 'complete.zarr'), args);
      t.is(complete.code, 0);
      const ref: Reference = await referenceOf(path.join(dir, 'complete.zarr'));
      t.is(await violationIn(await filesOf(path.join(dir, 'complete.zarr')), ref, true), undefined);
      const seen: string[] = [];
      for (let i = 0; i < KILLS_PER_CONFIG; i++) {
        // Kill points spread over the run: at start-up, then as level 0's metadata passes each ninth of the frames.
        const at = i === 0 ? -1 : Math.round((FRAMES * i) / (KILLS_PER_CONFIG + 1));
        const delay = (i * 7) % 11;
        const out = path.join(dir, `killed-${i}.zarr`);
        const run = await write(out, args, at, delay);
        const label = `${at < 0 ? 'start-up' : `>= ${at} frames`} +${delay} ms`;
        if (run.signal !== 'SIGKILL') {
          seen.push(`${label}: finished first`);
          continue;
        }
        kills++;
        const files = await filesOf(out).catch(() => new Map<string, Uint8Array>());
        const claimed = claimedFrames(files, ref);
        const lag = framesOnDisk(files, ref) - claimed[0]!;
        worstLag = Math.max(worstLag, lag);
        seen.push(`${label}: ${claimed.join('/')}${lag > 0 ? ` (${lag} more on disk)` : ''}`);
        t.is(await violationIn(files, ref), undefined, `${name}, killed at ${label}`);
        if (claimed[0]! > 0) {
          const back = await readWithZarrita(out);
          t.is(firstDifference(back.bytes, input.bytes.subarray(0, back.bytes.byteLength)), -1, `${name}, killed at ${label}: level 0 by zarrita`);
          t.is(back.shape[0], claimed[0]);
        }
      }
      t.log(`${name}: kills at ${seen.join(', ')} (frames claimed per level)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test.serial('at least 30 kill points in all', (t) => {
  t.log(`${kills} processes killed mid-write; at worst the metadata claimed ${worstLag} fewer level-0 frames than were complete on disk`);
  t.true(kills >= 30, `${kills}`);
});
