/**
 * What `overwrite` may remove: given a directory tree, the entries that are not Zarr keys (metadata documents,
 * chunks of arrays) or our temporaries. Pure: the tree is read elsewhere (fs-clear.ts), so the rules are tested
 * without a disk.
 */

export interface TreeEntry {
  name: string;
  /** Present for a directory: what it holds. */
  children?: TreeEntry[];
  /** A directory whose metadata says it is an array (`.zarray`, or `zarr.json` with node_type "array"). */
  array?: boolean;
}

/** The metadata documents of a Zarr node, v2 and v3 (consolidated `.zmetadata` too). */
export const METADATA = new Set(['.zgroup', '.zarray', '.zattrs', '.zmetadata', 'zarr.json']);
/** The temporary a store writes beside a value before renaming it into place: `.name.<pid>.<n>.partial`. */
const TEMPORARY = /^\..+\.partial$/;
/** A chunk file: v2 "0.1.2", one segment of a nested key ("/" separator), or v3 "c.0.1" (the "." encoding). */
const CHUNK_FILE = /^(\d+(\.\d+)*|c(\.\d+)+)$/;
/** A directory in a nested chunk key: a coordinate, or v3's "c" prefix. */
const CHUNK_DIR = /^(\d+|c)$/;

export function isNode(entry: TreeEntry): boolean {
  return entry.children?.some((child) => !child.children && METADATA.has(child.name)) ?? false;
}

/**
 * Paths (relative, "/"-separated; directories end in "/") under `root` that are not Zarr keys or temporaries.
 * `keep` names root entries to skip (our own lock file). Empty means overwrite may clear the store; a root that is
 * not a Zarr node (no root metadata) is for the caller to refuse first.
 */
export function foreignEntries(root: TreeEntry, keep: ReadonlySet<string> = new Set()): string[] {
  const foreign: string[] = [];
  visitNode(root, '', foreign, keep);
  return foreign;
}

function visitNode(node: TreeEntry, prefix: string, foreign: string[], keep: ReadonlySet<string>): void {
  for (const child of node.children ?? []) {
    const at = prefix + child.name;
    if (prefix === '' && keep.has(child.name)) continue;
    if (TEMPORARY.test(child.name)) continue;
    if (!child.children) {
      if (METADATA.has(child.name) || (node.array && CHUNK_FILE.test(child.name))) continue;
      foreign.push(at);
    } else if (isNode(child)) {
      visitNode(child, at + '/', foreign, keep);
    } else if (node.array && CHUNK_DIR.test(child.name)) {
      visitChunks(child, at + '/', foreign);
    } else if (!holdsOnlyLeftovers(child)) {
      foreign.push(at + '/');
    }
  }
}

/** Below an array's chunk prefix: coordinates all the way down, and temporaries. */
function visitChunks(dir: TreeEntry, prefix: string, foreign: string[]): void {
  for (const child of dir.children ?? []) {
    const at = prefix + child.name;
    if (TEMPORARY.test(child.name)) continue;
    if (!child.children) {
      if (!/^\d+(\.\d+)*$/.test(child.name)) foreign.push(at);
    } else if (/^\d+$/.test(child.name)) {
      visitChunks(child, at + '/', foreign);
    } else {
      foreign.push(at + '/');
    }
  }
}

/** A directory we made but never finished (a crash before its metadata landed): empty, or temporaries only. */
function holdsOnlyLeftovers(dir: TreeEntry): boolean {
  return (dir.children ?? []).every((child) => (child.children ? holdsOnlyLeftovers(child) : TEMPORARY.test(child.name)));
}

/** "a, b, c and 4 more": a list short enough for one error line. */
export function summarize(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}
