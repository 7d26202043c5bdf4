/**
 * Why a store directory cannot be made there: checks of the filesystem under a path, so that errors name the real
 * cause. Node's recursive mkdir reports a read-only mount as ENOENT for the missing child, and under /proc it loops
 * forever (mkdir of the child says ENOENT, of the existing parent EEXIST, and it tries again).
 */
import { constants } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
import path from 'node:path';

/** Linux statfs magic numbers of pseudo filesystems, which can never hold a dataset. */
const VIRTUAL_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x73636673, 'securityfs'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x1cd1, 'devpts'],
]);

/** Where every Linux system mounts a virtual filesystem. */
const VIRTUAL_ROOTS = ['/proc', '/sys'];

/** Pure: the virtual filesystem root that `dir` lies under (/proc or /sys), or undefined. */
export function virtualRootOf(dir: string): string | undefined {
  const resolved = path.resolve(dir);
  return VIRTUAL_ROOTS.find((root) => resolved === root || resolved.startsWith(root + path.sep));
}

/** The deepest ancestor of `dir` (or `dir` itself) that exists. */
export async function nearestExisting(dir: string): Promise<string> {
  let at = path.resolve(dir);
  for (;;) {
    try {
      await stat(at);
      return at;
    } catch (error) {
      const parent = path.dirname(at);
      const code = (error as NodeJS.ErrnoException).code;
      if (parent === at || (code !== 'ENOENT' && code !== 'ENOTDIR')) return at;
      at = parent;
    }
  }
}

/** Throws when `dir` would be made on a virtual filesystem (by its path, or by the statfs type of what exists). */
export async function assertRealFilesystem(dir: string): Promise<void> {
  const root = virtualRootOf(dir);
  const existing = await nearestExisting(dir);
  const type = root ? undefined : await statfs(existing).then((info) => VIRTUAL_FILESYSTEMS.get(info.type), () => undefined);
  if (root || type) {
    throw new Error(`store path ${path.resolve(dir)} is on a virtual filesystem (${type ?? root}), which cannot hold a dataset; choose a directory on a disk`);
  }
}

/**
 * A clearer error for a failed mkdir of `dir`: when the nearest existing ancestor cannot be written (a read-only
 * mount, or no permission), says so and names both paths; otherwise returns `error` as it was.
 */
export async function explainMkdirError(dir: string, error: unknown): Promise<unknown> {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code !== 'ENOENT' && code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM') return error;
  const existing = await nearestExisting(dir);
  const why = await access(existing, constants.W_OK).then(
    () => undefined,
    (denied: NodeJS.ErrnoException) => denied.code,
  );
  if (why === 'EROFS') return Object.assign(new Error(`cannot create directory ${dir}: ${existing} is on a read-only filesystem (EROFS)`), { code: 'EROFS', cause: error });
  if (why === 'EACCES' || why === 'EPERM') {
    return Object.assign(new Error(`cannot create directory ${dir}: no permission to write in ${existing} (${why})`), { code: why, cause: error });
  }
  return error;
}
