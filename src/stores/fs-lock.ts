/**
 * One writer per directory store: a lock file in the root, created exclusively (O_EXCL), holding the writer's pid
 * and host. A second writer fails naming the file and its holder. A lock left by a dead process on this host is
 * reported as stale, with how to remove it, never broken silently: a process we cannot see may still be writing.
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The lock file's name in the store root (a dot file: Zarr readers list nodes by their metadata, and skip it). */
export const LOCK_FILE = '.zarr-stream.lock';

interface Holder {
  pid: number;
  host: string;
  started: string;
  /** Linux's boot id: after a restart (a power cut) the pid may name some other process, so it tells us more. */
  boot?: string;
}

/** This boot's id on Linux, else undefined. */
async function bootId(): Promise<string | undefined> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined))?.trim();
}

/** Creates the lock file in `root` (which must exist); returns its path. */
export async function acquireLock(root: string): Promise<string> {
  const file = path.join(root, LOCK_FILE);
  const holder: Holder = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), boot: await bootId() };
  try {
    await writeFile(file, JSON.stringify(holder) + '\n', { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw await lockedError(root, file);
    throw new Error(`cannot lock store ${root}: ${(error as Error).message}`);
  }
  return file;
}

export async function releaseLock(file: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw new Error(`cannot remove the lock file ${file}: ${error.message}`);
  });
}

async function lockedError(root: string, file: string): Promise<Error> {
  let holder: Partial<Holder>;
  try {
    holder = JSON.parse(await readFile(file, 'utf8')) as Partial<Holder>;
  } catch (error) {
    return new Error(`store ${root} is locked by another writer: ${file} exists (unreadable: ${(error as Error).message}); if no writer uses the store, remove it`);
  }
  const who = `pid ${holder.pid} on host ${holder.host}${holder.started ? `, since ${holder.started}` : ''}`;
  if (holder.host === os.hostname() && typeof holder.pid === 'number') {
    const boot = await bootId();
    const gone = holder.boot !== undefined && boot !== undefined && holder.boot !== boot ? 'which ran before this machine restarted' : !isRunning(holder.pid) ? 'which is no longer running' : undefined;
    if (gone) return new Error(`store ${root} has a stale lock ${file}: ${who}, ${gone}; if no other writer uses the store, remove ${file} and retry`);
  }
  return new Error(`store ${root} is locked by another writer: ${file} names ${who}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
