/**
 * The fault matrix: for every k of a small run, the k-th file operation (or store call) fails, over raw v2, streamed
 * lz4 v3 and multiscale lz4 v3. Every case: the pipeline rejects naming the key (or, for a metadata rewrite that a
 * later update retried, or a short write that was resumed, resolves with everything stored); every chunk under
 * its final key decodes (with numcodecs' Blosc, since zarrita does not verify Blosc) to exactly the chunk of a
 * fault-free run, whose level 0 is checked against the input frames; every chunk the metadata claims is there;
 * no temporary file is left. The counts are printed and restated in docs/reliability.md.
 */
import test from 'ava';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { sinkOf, zarrTransforms } from '../src/zarr-transforms.js';
import type { ZarrStreamOptions } from '../src/options.js';
import { FileSystemStore } from '../src/stores/fs-store.js';
import { nativeEngineAvailable } from '../src/codecs/engine.js';
import { firstDifference, makeFrames, source, tempDir, type FrameSet } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';
import { FaultyFs, FaultyStore, type FaultAction, type FileOp, type FileOpName } from './helpers/faults.js';
import { filesOf, isMetadata, referenceOf, temporariesIn, violationIn, type Reference } from './helpers/store-check.js';

interface Config {
  name: string;
  frames: FrameSet;
  options: Partial<ZarrStreamOptions>;
}

const SMALL = makeFrames(5, 32, 32, 1, 'uint16');
const small = { dtype: 'uint16', width: 32, height: 32, workers: 1, chunking: { tileWidth: 16, tileHeight: 16, framesPerChunk: 2 } } as const;

const CONFIGS: Config[] = [
  // Raw runs are the cheapest: more frames, more fault points.
  { name: 'raw v2', frames: makeFrames(7, 32, 32, 1, 'uint16'), options: { ...small, zarrVersion: 2 } },
  // 256 KiB chunks in 64 KiB lz4 blocks: compressed as their frames arrive, in two segments, and streamed to a
  // writer whose header is overwritten last (the streamed path) instead of being set whole. (c-blosc keeps small
  // chunks in one block, so this path needs chunks this large.)
  {
    name: 'streamed lz4 v3',
    frames: makeFrames(10, 128, 128, 1, 'uint16'),
    options: { dtype: 'uint16', width: 128, height: 128, workers: 1, zarrVersion: 3, engine: 'native', compression: { codec: 'lz4' }, chunking: { tileWidth: 128, tileHeight: 128, framesPerChunk: 8 } },
  },
  { name: 'multiscale lz4 v3', frames: SMALL, options: { ...small, zarrVersion: 3, multiscale: true, compression: { codec: 'lz4' } } },
];

type Kind = 'EIO' | 'ENOSPC' | 'short write then EIO' | 'short write (resumed)' | 'failing rename' | 'store call fails, abort throws';

/** Which file operations each kind counts k over. */
const ELIGIBLE: Record<Exclude<Kind, 'store call fails, abort throws'>, (op: FileOpName) => boolean> = {
  EIO: () => true,
  ENOSPC: () => true,
  'short write then EIO': (op) => op === 'write',
  'short write (resumed)': (op) => op === 'write',
  'failing rename': (op) => op === 'rename',
};

async function reference(config: Config): Promise<Reference> {
  const dir = await tempDir('zs-ref-');
  try {
    await pipeline(source(config.frames.frames), ...zarrTransforms({ ...config.options, store: new FileSystemStore(dir) } as ZarrStreamOptions));
    const back = await readWithZarrita(dir);
    if (firstDifference(back.bytes, config.frames.bytes) !== -1) throw new Error(`${config.name}: the fault-free run does not read back exact`);
    return await referenceOf(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The checks every case must pass; returns a description of the first violation, or undefined. */
async function violation(dir: string, ref: Reference, outcome: { error?: Error; faultedKey?: string; mayResolve: boolean }): Promise<string | undefined> {
  const files = await filesOf(dir);
  const temporaries = temporariesIn(files);
  if (temporaries.length > 0) return `temporaries left: ${temporaries.join(' ')}`;
  if (outcome.error) {
    if (!(outcome.error instanceof Error)) return `rejected with a non-Error: ${String(outcome.error)}`;
    // A fault on the root itself (creating it for the lock) has no key: the rejection names the directory.
    if (outcome.faultedKey === '' && !outcome.error.message.includes(dir)) return `rejection does not name the store ${dir}: ${outcome.error.message}`;
    if (outcome.faultedKey && !outcome.error.message.includes(`store key "${outcome.faultedKey}`)) return `rejection does not name ${outcome.faultedKey}: ${outcome.error.message}`;
  } else if (!outcome.mayResolve) {
    return `resolved although ${outcome.faultedKey} failed`;
  }
  return violationIn(files, ref, !outcome.error);
}

/** Runs one case on a fresh directory; returns the violation, if any. */
async function runCase(config: Config, ref: Reference, makeStore: (dir: string) => { store: FileSystemStore | FaultyStore; faulted: () => { key: string; op: string } | undefined; settle?: () => Promise<unknown> }, resumable: boolean): Promise<string | undefined> {
  const dir = await tempDir('zs-fault-');
  try {
    const { store, faulted, settle } = makeStore(dir);
    let error: Error | undefined;
    try {
      const chain = zarrTransforms({ ...config.options, store } as ZarrStreamOptions);
      // A failed metadata rewrite is retried and warned about: expected here, not worth printing.
      sinkOf(chain).on('warning', () => undefined);
      await pipeline(source(config.frames.frames), ...chain);
    } catch (caught) {
      error = caught as Error;
    }
    await settle?.();
    const fault = faulted();
    if (!fault) return error ? `rejected without a fault: ${error.message}` : undefined;
    // A metadata rewrite is retried by the next update or the final flush; a short write is resumed.
    const mayResolve = resumable || (isMetadata(fault.key) && fault.key !== '.zgroup' && fault.key !== '.zattrs' && fault.key !== 'zarr.json');
    return await violation(dir, ref, { error, faultedKey: fault.key, mayResolve });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const counts = new Map<string, number>();
const native = nativeEngineAvailable() ? test.serial : test.serial.skip;

for (const config of CONFIGS) {
  const run = config.name.startsWith('streamed') ? native : test.serial;
  run(`fault matrix: ${config.name}`, async (t) => {
    const ref = await reference(config);
    // A fault-free run through the seam counts the operations k runs over.
    const dry = await tempDir('zs-dry-');
    const dryFs = new FaultyFs(dry);
    const dryStore = new FaultyStore(new FileSystemStore(dry, { fs: dryFs }), () => false);
    await pipeline(source(config.frames.frames), ...zarrTransforms({ ...config.options, store: dryStore } as ZarrStreamOptions));
    await rm(dry, { recursive: true, force: true });
    const failures: string[] = [];
    let cases = 0;
    for (const kind of Object.keys(ELIGIBLE) as Array<keyof typeof ELIGIBLE>) {
      const total = dryFs.log.filter((op) => ELIGIBLE[kind](op.op)).length;
      for (let k = 1; k <= total; k++) {
        cases++;
        const problem = await runCase(
          config,
          ref,
          (dir) => {
            let seen = 0;
            let shortened = false;
            const fs = new FaultyFs(dir, (op: FileOp): FaultAction | undefined => {
              if (shortened && op.op === 'write') {
                shortened = false;
                return { fail: 'EIO' };
              }
              if (!ELIGIBLE[kind](op.op) || ++seen !== k) return undefined;
              if (kind === 'short write then EIO' || kind === 'short write (resumed)') {
                shortened = kind === 'short write then EIO';
                return 'short';
              }
              return { fail: kind === 'ENOSPC' ? 'ENOSPC' : 'EIO' };
            });
            return { store: new FileSystemStore(dir, { fs }), faulted: () => (kind === 'short write (resumed)' ? fs.shortened : fs.faulted) };
          },
          kind === 'short write (resumed)',
        );
        if (problem) failures.push(`${kind} at op ${k}: ${problem}`);
      }
      counts.set(`${config.name}: ${kind}`, total);
    }
    // The store wrapper: its k-th call fails (rejecting with a string), and every abort() throws or rejects.
    const storeOps = dryStore.log.length;
    for (let k = 1; k <= storeOps; k++) {
      cases++;
      const problem = await runCase(
        config,
        ref,
        (dir) => {
          const store = new FaultyStore(new FileSystemStore(dir), (op) => op.index === k, k % 2 === 0 ? 'sync' : 'async');
          return { store, faulted: () => store.faulted, settle: () => Promise.all(store.cleanups) };
        },
        false,
      );
      if (problem) failures.push(`store call ${k} fails, abort throws: ${problem}`);
    }
    counts.set(`${config.name}: store call fails, abort throws`, storeOps);
    t.log(`${config.name}: ${cases} fault points (${[...counts].filter(([name]) => name.startsWith(config.name)).map(([name, n]) => `${name.slice(config.name.length + 2)} ${n}`).join(', ')})`);
    t.deepEqual(failures, []);
  });
}

test.serial('fault matrix: at least 500 fault points in all', (t) => {
  const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
  t.log(`${total} fault points in all`);
  if (nativeEngineAvailable()) t.true(total >= 500, `${total}`);
  else t.pass();
});
