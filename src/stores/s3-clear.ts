/**
 * Overwrite for an S3 prefix, pure: the object keys become the directory tree zarr-tree.ts judges, so S3 follows
 * FileSystemStore's rules (clear only a Zarr store, and only its Zarr keys; refuse anything else, naming it).
 */
import { foreignEntries, isNode, summarize, type TreeEntry } from './zarr-tree.js';

/** The "directories" holding a zarr.json ('' for the root): their documents say whether they are arrays. */
export function zarrJsonDirs(keys: readonly string[]): string[] {
  return keys.filter((key) => key === 'zarr.json' || key.endsWith('/zarr.json')).map((key) => key.slice(0, Math.max(0, key.length - '/zarr.json'.length)));
}

/** The tree of `keys` ("/"-separated, relative), arrays marked: `.zarray` beside, or a dir in `v3Arrays`. */
export function treeOfKeys(keys: readonly string[], v3Arrays: ReadonlySet<string>): TreeEntry {
  const root: TreeEntry = { name: '', children: [] };
  const dirs = new Map<string, TreeEntry>([['', root]]);
  const dirOf = (path: string): TreeEntry => {
    let dir = dirs.get(path);
    if (!dir) {
      const cut = path.lastIndexOf('/');
      dir = { name: path.slice(cut + 1), children: [] };
      dirOf(cut < 0 ? '' : path.slice(0, cut)).children!.push(dir);
      dirs.set(path, dir);
    }
    return dir;
  };
  for (const key of keys) {
    const cut = key.lastIndexOf('/');
    const dir = dirOf(cut < 0 ? '' : key.slice(0, cut));
    dir.children!.push({ name: key.slice(cut + 1) });
  }
  for (const [path, dir] of dirs) dir.array = dir.children!.some((child) => !child.children && child.name === '.zarray') || v3Arrays.has(path);
  return root;
}

/** Throws, naming what is there, unless the tree is a Zarr store holding only Zarr keys. */
export function checkClearable(tree: TreeEntry, where: string): void {
  const children = tree.children ?? [];
  if (children.length === 0) return;
  if (!isNode(tree)) {
    throw new Error(`refusing to overwrite ${where}: it is not a Zarr store (holds ${summarize(children.map((child) => child.name + (child.children ? '/' : '')))})`);
  }
  const foreign = foreignEntries(tree);
  if (foreign.length > 0) throw new Error(`refusing to overwrite ${where}: it holds objects that are not Zarr keys (${summarize(foreign)}); move them away first`);
}
