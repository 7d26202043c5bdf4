/**
 * The file system operations FileSystemStore's writes go through: node:fs/promises by default. A seam, so tests can
 * fail the k-th operation (test/helpers/faults.ts); reads, clearing, locking and directory fsyncs use
 * node:fs/promises directly.
 */
import * as fsPromises from 'node:fs/promises';
import path from 'node:path';
import type { Bytes } from '../messages.js';

/** The file handle operations the store's writes use (a subset of node:fs/promises' FileHandle). */
export interface FileHandleOps {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  writev(buffers: Uint8Array[], position: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileOps {
  open(file: string, flags: 'w'): Promise<FileHandleOps>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  /** As fs.promises.mkdir: with `recursive`, resolves with the first directory it created (undefined if none). */
  mkdir(dir: string, options?: { recursive?: boolean }): Promise<string | undefined>;
}

export const NODE_FILE_OPS: FileOps = fsPromises;

/** Writes all of `data` at `position`: pieces in one gathered write, resumed where a short write stopped. */
export async function writeAllAt(fh: FileHandleOps, data: Bytes, position: number): Promise<void> {
  let pieces = data instanceof Uint8Array ? [data] : [...data];
  let at = position;
  while (pieces.length > 0) {
    const { bytesWritten } = pieces.length === 1 ? await fh.write(pieces[0]!, 0, pieces[0]!.byteLength, at) : await fh.writev(pieces, at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (pieces.length > 0 && skip >= pieces[0]!.byteLength) skip -= pieces.shift()!.byteLength;
    if (skip > 0) pieces[0] = pieces[0]!.subarray(skip);
  }
}

let tempCounter = 0;

/** A hidden temporary name beside `file`, unique in this process; clearing a store removes such leftovers. */
export function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${tempCounter++}.partial`);
}
