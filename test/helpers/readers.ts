/**
 * Independent readers for round-trip tests: zarrita.js (v2 and v3) and Debian's zarr-python (v2). What they read
 * back is compared, pixel for pixel, with what went in.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as zarr from 'zarrita';
import FileSystemStore from '@zarrita/storage/fs';

const run = promisify(execFile);

export interface ReadBack {
  shape: number[];
  chunks: number[];
  dtype: string;
  /** The whole array's bytes, C order, little endian. */
  bytes: Uint8Array;
}

function asBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Opens array `arrayPath` of a store (a directory, or any zarrita-readable store) with zarrita.js. */
export async function openWithZarrita(store: string | zarr.Readable, arrayPath = '0') {
  const source = typeof store === 'string' ? new FileSystemStore(store) : store;
  return zarr.open(zarr.root(source).resolve(arrayPath), { kind: 'array' });
}

/** Reads the whole array with zarrita.js. */
export async function readWithZarrita(store: string | zarr.Readable, arrayPath = '0'): Promise<ReadBack> {
  const array = await openWithZarrita(store, arrayPath);
  const chunk = await zarr.get(array);
  return { shape: array.shape, chunks: array.chunks, dtype: String(array.dtype), bytes: asBytes(chunk.data as ArrayBufferView) };
}

export const PYTHON = '/usr/bin/python3';

let pythonZarr: Promise<string | undefined> | undefined;
/** zarr-python's version, or undefined when Debian's python3-zarr is not installed here. */
export function pythonZarrVersion(): Promise<string | undefined> {
  pythonZarr ??= existsSync(PYTHON)
    ? run(PYTHON, ['-c', 'import zarr, numcodecs; print(zarr.__version__)']).then(
        ({ stdout }) => stdout.trim(),
        () => undefined,
      )
    : Promise.resolve(undefined);
  return pythonZarr;
}

/** In CI the Python reader is required: a missing one is a failure there, a logged skip on a developer's machine. */
export async function requirePythonZarr(log: (message: string) => void): Promise<boolean> {
  const version = await pythonZarrVersion();
  if (version) return true;
  if (process.env.CI) throw new Error(`zarr-python is required in CI but ${PYTHON} cannot import zarr (apt-get install python3-zarr python3-numcodecs)`);
  log(`SKIPPED the zarr-python check: ${PYTHON} cannot import zarr here (apt-get install python3-zarr python3-numcodecs to run it)`);
  return false;
}

/** Whether Debian's Python can import `module` (e.g. tifffile, to write test TIFFs); like requirePythonZarr, CI requires it. */
export async function requirePythonModule(module: string, debianPackage: string, log: (message: string) => void): Promise<boolean> {
  const ok = existsSync(PYTHON) && (await run(PYTHON, ['-c', `import ${module}`]).then(() => true, () => false));
  if (ok) return true;
  if (process.env.CI) throw new Error(`${module} is required in CI but ${PYTHON} cannot import it (apt-get install ${debianPackage})`);
  log(`SKIPPED: ${PYTHON} cannot import ${module} here (apt-get install ${debianPackage} to run this check)`);
  return false;
}

/** Reads a v2 array with zarr-python; the bytes travel through a temporary file. */
export async function readWithPython(storePath: string, arrayPath = '0'): Promise<ReadBack> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zs-py-'));
  const out = path.join(dir, 'data.bin');
  const script = [
    'import json, sys, zarr, numpy as np',
    'a = zarr.open_array(sys.argv[1], path=sys.argv[2], mode="r")',
    'data = np.ascontiguousarray(a[...])',
    'data.astype(data.dtype.newbyteorder("<")).tofile(sys.argv[3])',
    'print(json.dumps({"shape": list(a.shape), "chunks": list(a.chunks), "dtype": a.dtype.str}))',
  ].join('\n');
  try {
    const { stdout } = await run(PYTHON, ['-c', script, storePath, arrayPath, out], { maxBuffer: 1 << 20 });
    const info = JSON.parse(stdout) as { shape: number[]; chunks: number[]; dtype: string };
    return { ...info, bytes: new Uint8Array(await readFile(out)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs a Python snippet with Debian's interpreter and returns its stdout. */
export async function python(script: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(PYTHON, ['-c', script, ...args], { maxBuffer: 64 << 20 });
  return stdout;
}

/** A MemoryStore as zarrita reads stores (keys with a leading "/"), so in-memory round trips need no disk. */
export function zarritaMemory(store: { map: Map<string, Uint8Array> }): zarr.Readable {
  const get = async (key: string): Promise<Uint8Array | undefined> => store.map.get(key.replace(/^\//, ''));
  // Ranges too, so sharded arrays read back from memory.
  const getRange = async (key: string, range: { offset: number; length: number } | { suffixLength: number }): Promise<Uint8Array | undefined> => {
    const value = await get(key);
    if (!value) return undefined;
    return 'suffixLength' in range ? value.subarray(value.byteLength - range.suffixLength) : value.subarray(range.offset, range.offset + range.length);
  };
  return { get, getRange } as zarr.Readable;
}
