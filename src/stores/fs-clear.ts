/**
 * Overwrite for a directory store: it clears only a Zarr store (root metadata present), removes only its Zarr keys
 * and our temporaries, and refuses anything else, naming what is there. Never delete what we did not write.
 */
import { readdir, readFile, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { foreignEntries, isNode, summarize, type TreeEntry } from './zarr-tree.js';

/** Reads the directory tree under `dir`, marking array nodes. */
export async function readTree(dir: string, name = ''): Promise<TreeEntry> {
  const entries = await readdir(dir, { withFileTypes: true });
  const children = await Promise.all(
    entries.map((entry): Promise<TreeEntry> | TreeEntry => (entry.isDirectory() ? readTree(path.join(dir, entry.name), entry.name) : { name: entry.name })),
  );
  const names = new Set(entries.map((entry) => entry.name));
  return { name, children, array: names.has('.zarray') || (names.has('zarr.json') && (await isV3Array(path.join(dir, 'zarr.json')))) };
}

async function isV3Array(file: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { node_type?: unknown }).node_type === 'array';
  } catch {
    // Unreadable metadata is still metadata we may have written (say, torn by a crash without durable).
    return true;
  }
}

/**
 * Removes the Zarr store at `root` (keeping the root itself and the entries named in `keep`), or throws naming what
 * makes it something else. The whole tree is checked before the first removal.
 */
export async function clearZarrStore(root: string, keep: ReadonlySet<string>): Promise<void> {
  const tree = await readTree(root);
  const others = (tree.children ?? []).filter((child) => !keep.has(child.name));
  if (others.length === 0) return;
  if (!isNode(tree)) {
    const names = others.map((child) => child.name + (child.children ? '/' : ''));
    throw new Error(`refusing to overwrite ${root}: it is not a Zarr store (holds ${summarize(names)})`);
  }
  const foreign = foreignEntries(tree, keep);
  if (foreign.length > 0) throw new Error(`refusing to overwrite ${root}: it holds files that are not Zarr keys (${summarize(foreign)}); move them away first`);
  const files: string[] = [];
  const dirs: string[] = [];
  const collect = (entry: TreeEntry, at: string): void => {
    for (const child of entry.children ?? []) {
      const file = path.join(at, child.name);
      if (child.children) {
        collect(child, file);
        dirs.push(file);
      } else {
        files.push(file);
      }
    }
  };
  collect({ name: '', children: others }, root);
  await Promise.all(files.map((file) => unlink(file).catch(ignoreMissing)));
  // Deepest first (collect pushed children before parents); rmdir fails on anything that appeared meanwhile.
  for (const dir of dirs) await rmdir(dir).catch(ignoreMissing);
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
