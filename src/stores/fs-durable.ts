/**
 * fsync for directories. A renamed or created entry survives a power cut only once its directory is fsynced; many
 * chunks land in one directory at once, so requests that arrive before a directory's next fsync starts share it.
 */
import { open } from 'node:fs/promises';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface DirState {
  running?: Promise<void>;
  /** The fsync that will start when `running` settles; requests made before it starts join it. */
  next?: Promise<void>;
}

export class DirSyncer {
  private readonly dirs = new Map<string, DirState>();

  /** Resolves once an fsync of `dir` that started after this call has finished. */
  sync(dir: string): Promise<void> {
    let state = this.dirs.get(dir);
    if (!state) this.dirs.set(dir, (state = {}));
    if (state.next) return state.next;
    const s = state;
    const next: Promise<void> = (s.running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        s.running = next;
        s.next = undefined;
        return fsyncDir(dir);
      });
    s.next = next;
    const settled = (): void => {
      if (s.running === next && !s.next) this.dirs.delete(dir);
    };
    next.then(settled, settled);
    return next;
  }
}
