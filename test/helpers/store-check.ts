/**
 * Integrity checks of a store directory after a failure or a kill, against a complete fault-free write of the same
 * frames: every chunk under its final key decodes (numcodecs' Blosc, which verifies what zarrita does not) to
 * exactly the reference chunk, and every chunk the metadata claims is there.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import Blosc from 'numcodecs/blosc';
import { firstDifference } from './frames.js';

const blosc = Blosc.fromConfig({ id: 'blosc' });

export const isMetadata = (key: string): boolean => /(^|\/)(\.zarray|\.zgroup|\.zattrs|zarr\.json)$/.test(key);

/** Every file under root, by key ('/'-separated). */
export async function filesOf(root: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.set(path.relative(root, file).split(path.sep).join('/'), new Uint8Array(await readFile(file)));
  }
  return out;
}

export const temporariesIn = (files: Map<string, Uint8Array>): string[] => [...files.keys()].filter((key) => key.includes('.partial'));

interface ArrayInfo {
  metadata: string;
  /** Frames the complete write holds. */
  frames: number;
  framesPerChunk: number;
  /** Chunk keys of each chunk row. */
  rows: Map<number, string[]>;
}

export interface Reference {
  blosc: boolean;
  /** Decoded bytes of every chunk, by key. */
  chunks: Map<string, Uint8Array>;
  arrays: ArrayInfo[];
}

function json(bytes: Uint8Array): { shape: number[]; chunks?: number[]; chunk_grid?: { configuration: { chunk_shape: number[] } }; compressor?: unknown; codecs?: unknown[] } {
  return JSON.parse(new TextDecoder().decode(bytes));
}

function isBlosc(metadata: ReturnType<typeof json>): boolean {
  return JSON.stringify(metadata.compressor ?? metadata.codecs ?? null).includes('blosc');
}

async function decodeChunk(bytes: Uint8Array, compressed: boolean): Promise<Uint8Array> {
  return compressed ? new Uint8Array(await blosc.decode(bytes)) : bytes;
}

/** The reference: a complete write's arrays (levels 0, 1, ... while they exist) and decoded chunks. */
export async function referenceOf(root: string): Promise<Reference> {
  const files = await filesOf(root);
  const arrays: ArrayInfo[] = [];
  let compressed = false;
  for (let level = 0; ; level++) {
    const v2 = files.get(`${level}/.zarray`);
    const metadataKey = v2 ? `${level}/.zarray` : `${level}/zarr.json`;
    const bytes = files.get(metadataKey);
    if (!bytes) break;
    const metadata = json(bytes);
    compressed ||= isBlosc(metadata);
    const prefix = v2 ? `${level}/` : `${level}/c/`;
    const rows = new Map<number, string[]>();
    for (const key of files.keys()) {
      if (!key.startsWith(prefix) || isMetadata(key) || key.includes('.partial')) continue;
      const row = Number(key.slice(prefix.length).split('/')[0]);
      rows.set(row, [...(rows.get(row) ?? []), key]);
    }
    const framesPerChunk = (metadata.chunks ?? metadata.chunk_grid!.configuration.chunk_shape)[0]!;
    arrays.push({ metadata: metadataKey, frames: metadata.shape[0]!, framesPerChunk, rows });
  }
  const chunks = new Map<string, Uint8Array>();
  for (const [key, bytes] of files) if (!isMetadata(key)) chunks.set(key, await decodeChunk(bytes, compressed));
  return { blosc: compressed, chunks, arrays };
}

/**
 * The first violation in `files` (a store after a failure or kill), or undefined: a chunk file that does not decode
 * to the reference's, a claimed chunk that is missing, metadata that does not parse; with `complete`, an array that
 * does not claim every frame. Temporary files are skipped (callers decide whether they may remain).
 */
export async function violationIn(files: Map<string, Uint8Array>, ref: Reference, complete = false): Promise<string | undefined> {
  for (const [key, bytes] of files) {
    // A killed writer leaves its lock file, which the next writer reports as stale; readers ignore it.
    if (isMetadata(key) || key.includes('.partial') || key === '.zarr-stream.lock') continue;
    const expected = ref.chunks.get(key);
    if (!expected) return `unexpected file ${key}`;
    let decoded: Uint8Array;
    try {
      decoded = await decodeChunk(bytes, ref.blosc);
    } catch (error) {
      return `${key} does not decode: ${(error as Error).message}`;
    }
    const at = firstDifference(decoded, expected);
    if (at !== -1) return `${key} differs at byte ${at}`;
  }
  for (const array of ref.arrays) {
    const bytes = files.get(array.metadata);
    if (!bytes) {
      if (complete) return `${array.metadata} is missing`;
      continue;
    }
    let claimed: number;
    try {
      claimed = json(bytes).shape[0]!;
    } catch (error) {
      return `${array.metadata} does not parse: ${(error as Error).message}`;
    }
    if (complete && claimed !== array.frames) return `${array.metadata} claims ${claimed} of ${array.frames} frames`;
    if (claimed > array.frames) return `${array.metadata} claims ${claimed} frames, more than the ${array.frames} written`;
    for (let row = 0; row * array.framesPerChunk < claimed; row++) {
      for (const key of array.rows.get(row) ?? []) if (!files.has(key)) return `${array.metadata} claims ${claimed} frames but ${key} is missing`;
    }
  }
  return undefined;
}

/** Frames each array's metadata claims (0 where it has none yet). */
export function claimedFrames(files: Map<string, Uint8Array>, ref: Reference): number[] {
  return ref.arrays.map((array) => {
    const bytes = files.get(array.metadata);
    return bytes ? json(bytes).shape[0]! : 0;
  });
}

/** Frames of level 0 whose chunk rows are all on disk, from the first row on: what the metadata could claim. */
export function framesOnDisk(files: Map<string, Uint8Array>, ref: Reference): number {
  const array = ref.arrays[0]!;
  let row = 0;
  while (array.rows.has(row) && array.rows.get(row)!.every((key) => files.has(key))) row++;
  return Math.min(row * array.framesPerChunk, array.frames);
}
