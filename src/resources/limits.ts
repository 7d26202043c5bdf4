/**
 * The machine's limits that bound a write: its memory and cores, and the process's open-file limit. Read once; the
 * decisions made with them are in options.ts (resolveOptions), the arithmetic in estimate.ts.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

/** Default maxMemory: this fraction of the machine's memory, leaving the rest to the source and everyone else. */
export const DEFAULT_MEMORY_FRACTION = 1 / 2;
/** Workers above this many per core only add threads that wait (and their memory). */
export const MAX_WORKERS_PER_CORE = 4;
/**
 * Chunks per frame (all levels) beyond which a layout is refused: each is a file kept open until its chunk row
 * completes, and so many tiny chunks are never what was meant (1x1 tiles of 64x64 frames are 4,096 files).
 */
export const MAX_CHUNKS_PER_FRAME = 1024;
/** The open-file limit assumed where /proc/self/limits cannot be read (the usual soft limit). */
export const DEFAULT_OPEN_FILE_LIMIT = 1024;

export interface MachineLimits {
  totalMemory: number;
  cores: number;
  /** The soft limit on open files (Node raises it to the hard limit at startup). */
  openFiles: number;
}

/** Pure: the soft "Max open files" limit from the text of /proc/self/limits, or undefined. */
export function parseOpenFileLimit(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === 'unlimited') return Infinity;
  const value = Number(soft);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

let cached: MachineLimits | undefined;

export function machineLimits(): MachineLimits {
  if (!cached) {
    let openFiles: number | undefined;
    try {
      openFiles = parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'));
    } catch {
      openFiles = undefined;
    }
    cached = { totalMemory: totalmem(), cores: availableParallelism(), openFiles: openFiles ?? DEFAULT_OPEN_FILE_LIMIT };
  }
  return cached;
}

/** Open chunk files a write may keep: half the process's limit (the rest is the application's), at most MAX_CHUNKS_PER_FRAME. */
export function maxChunksPerFrame(limits: MachineLimits): number {
  return Math.min(MAX_CHUNKS_PER_FRAME, Math.floor(limits.openFiles / 2));
}
