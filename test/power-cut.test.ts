/**
 * Power cuts, simulated: the CLI writes into a loop-mounted ext4 image, which is shut down with EXT4_IOC_SHUTDOWN
 * and no log flush (what the disk holds is what a power cut would leave), then remounted. At every cut point,
 * whatever metadata survived must parse, and every chunk it claims must be there, decode (numcodecs' c-blosc, not
 * only zarrita) and hold exactly the pixels that were written. Needs root (mount); skips with a message elsewhere.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Blosc from 'numcodecs/blosc';
import { makeFrames, tempDir } from './helpers/frames.js';
import { PYTHON } from './helpers/readers.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const MKFS = ['/usr/sbin/mkfs.ext4', '/sbin/mkfs.ext4'].find((file) => existsSync(file));

// 64x64 uint16 frames in 32x32 tiles, 2 frames per chunk: 4 chunk files per 2 frames, enough of them that a cut
// lands mid-write.
const W = 64;
const H = 64;
const TILE = 32;
const FPC = 2;
const FRAMES = 120;
const EXPECTED = makeFrames(FRAMES, W, H, 1, 'uint16').bytes;

/** EXT4_IOC_SHUTDOWN with EXT4_GOING_FLAGS_NOLOGFLUSH: the journal is not flushed, as when the power goes. */
const SHUTDOWN = 'import fcntl, os, struct, sys; fd = os.open(sys.argv[1], os.O_RDONLY); fcntl.ioctl(fd, 0x8004587d, struct.pack("I", 2))';

interface Cut {
  name: string;
  version: 2 | 3;
  compression: 'lz4' | 'none';
  /** When to cut: after the CLI exits 0, or once the root exists, or once the metadata claims this many frames. */
  at: 'success' | 'startup' | number;
}

const CUTS: Cut[] = [
  { name: 'v3 lz4, after success', version: 3, compression: 'lz4', at: 'success' },
  { name: 'v3 lz4, at start-up', version: 3, compression: 'lz4', at: 'startup' },
  { name: 'v3 lz4, after the first chunk row', version: 3, compression: 'lz4', at: FPC },
  { name: 'v3 lz4, half way', version: 3, compression: 'lz4', at: FRAMES / 2 },
  { name: 'v2 raw, after success', version: 2, compression: 'none', at: 'success' },
  { name: 'v2 raw, a third of the way', version: 2, compression: 'none', at: FRAMES / 3 },
];

/** Why this machine cannot run the test, or undefined. */
function cannotRun(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (mounting a loop device needs root)';
  if (!MKFS) return 'mkfs.ext4 is missing (apt-get install e2fsprogs)';
  if (!existsSync(PYTHON)) return `${PYTHON} is missing (it issues the shutdown ioctl)`;
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
}

function metadataFiles(store: string, version: 2 | 3): { group: string; array: string } {
  return version === 2 ? { group: path.join(store, '.zgroup'), array: path.join(store, '0', '.zarray') } : { group: path.join(store, 'zarr.json'), array: path.join(store, '0', 'zarr.json') };
}

/** Frames the array metadata claims, or -1 while it is absent or being replaced. */
async function claimedFrames(store: string, version: 2 | 3): Promise<number> {
  try {
    const shape = (await readJson(metadataFiles(store, version).array))?.shape as number[] | undefined;
    return shape?.[0] ?? -1;
  } catch {
    return -1;
  }
}

/** The chunk (row, 0, ty, tx) as written: frames row*FPC.. of the input, zero past the last frame. */
function expectedChunk(row: number, ty: number, tx: number): Uint8Array {
  const out = new Uint8Array(FPC * TILE * TILE * 2);
  for (let f = 0; f < FPC; f++) {
    const t = row * FPC + f;
    if (t >= FRAMES) break;
    for (let y = 0; y < TILE; y++) {
      const from = ((t * H + ty * TILE + y) * W + tx * TILE) * 2;
      out.set(EXPECTED.subarray(from, from + TILE * 2), (f * TILE + y) * TILE * 2);
    }
  }
  return out;
}

/** Checks what survived the cut; returns the frames the metadata claims (-1: no array metadata). */
async function verify(t: ExecutionContext, cut: Cut, store: string, mustExist: boolean): Promise<number> {
  const files = metadataFiles(store, cut.version);
  const group = await readJson(files.group).catch((error: Error) => t.fail(`${cut.name}: root metadata does not parse: ${error.message}`));
  if (mustExist) t.truthy(group, `${cut.name}: root metadata is missing`);
  if (group) t.is(group.zarr_format, cut.version, `${cut.name}: root metadata`);
  const array = await readJson(files.array).catch((error: Error) => t.fail(`${cut.name}: array metadata does not parse: ${error.message}`));
  if (mustExist) t.truthy(array, `${cut.name}: array metadata is missing`);
  if (!array) return -1;
  const frames = (array.shape as number[])[0]!;
  const codec = cut.compression === 'lz4' ? Blosc.fromConfig({ id: 'blosc', cname: 'lz4', clevel: 1, shuffle: 1, blocksize: 0 }) : undefined;
  for (let row = 0; row * FPC < frames; row++) {
    for (let ty = 0; ty < H / TILE; ty++) {
      for (let tx = 0; tx < W / TILE; tx++) {
        const key = cut.version === 2 ? `0/${row}/0/${ty}/${tx}` : `0/c/${row}/0/${ty}/${tx}`;
        const stored = await readFile(path.join(store, key)).catch(() => undefined);
        if (!stored) {
          t.fail(`${cut.name}: chunk ${key} is claimed (${frames} frames) but missing`);
          continue;
        }
        let decoded: Uint8Array;
        try {
          decoded = codec ? await codec.decode(new Uint8Array(stored)) : new Uint8Array(stored);
        } catch (error) {
          t.fail(`${cut.name}: chunk ${key} is claimed but does not decode: ${(error as Error).message}`);
          continue;
        }
        t.deepEqual(Buffer.from(decoded), Buffer.from(expectedChunk(row, ty, tx)), `${cut.name}: chunk ${key} holds other pixels`);
      }
    }
  }
  return frames;
}

test('after a power cut at any point, every chunk the metadata claims is there, decodes and is exact', async (t) => {
  const reason = cannotRun();
  if (reason) {
    t.log(`SKIPPED the power-cut test: ${reason}`);
    t.pass();
    return;
  }
  const dir = await tempDir('zs-powercut-');
  const image = path.join(dir, 'fs.img');
  const mnt = path.join(dir, 'mnt');
  let mounted = false;
  t.teardown(async () => {
    if (mounted) await run('umount', [mnt]).catch(() => run('umount', ['-l', mnt]).catch(() => undefined));
    await rm(dir, { recursive: true, force: true });
  });
  await mkdir(mnt);
  await run('truncate', ['-s', '64M', image]);
  await run(MKFS!, ['-q', '-F', image]);
  try {
    await run('mount', ['-o', 'loop', image, mnt]);
  } catch (error) {
    t.log(`SKIPPED the power-cut test: cannot loop-mount an ext4 image here (${(error as Error).message.split('\n')[0]})`);
    t.pass();
    return;
  }
  mounted = true;
  for (const [index, cut] of CUTS.entries()) {
    const store = path.join(mnt, `cut${index}.zarr`);
    const args = ['write', store, '--frames', String(FRAMES), '--width', String(W), '--height', String(H), '--tile-width', String(TILE), '--tile-height', String(TILE)];
    args.push('--frames-per-chunk', String(FPC), '--zarr-version', String(cut.version), '--compression', cut.compression, '--workers', '1', '--json');
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (data: Buffer) => (stderr += data));
    const done = exited(child);
    let finished = false;
    void done.then(() => (finished = true));
    if (cut.at === 'success') {
      t.is(await done, 0, `${cut.name}: ${stderr}`);
    } else {
      // Poll until the cut point is reached (or the writer is done: then the cut comes after success).
      while (!finished && !(cut.at === 'startup' ? existsSync(store) : (await claimedFrames(store, cut.version)) >= cut.at)) await sleep(2);
    }
    const midWrite = !finished;
    await run(PYTHON, ['-c', SHUTDOWN, mnt]);
    // The writer now meets EIO everywhere; it must still exit.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await done;
    clearTimeout(timer);
    await run('umount', [mnt]);
    mounted = false;
    await run('mount', ['-o', 'loop', image, mnt]);
    mounted = true;
    const claimed = await verify(t, cut, store, cut.at !== 'startup');
    if (cut.at === 'success') t.is(claimed, FRAMES, `${cut.name}: the metadata claims every frame`);
    t.log(`${cut.name}: cut ${midWrite ? 'mid-write' : 'after the writer exited'}; the metadata claims ${claimed < 0 ? 'nothing (no array metadata)' : `${claimed} frames`}, all verified`);
  }
});
