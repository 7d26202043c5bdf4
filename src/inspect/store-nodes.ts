/**
 * The groups and arrays of a Zarr store on disk (v2 or v3, any writer's), found by walking its directories. Each
 * node's metadata document is read and parsed here; zarrita.js then opens every array, so a document zarrita
 * cannot make sense of is reported with its file's name. Only group directories are walked for nodes: an array's
 * directory holds its chunks, which are counted (files and bytes), not searched.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import * as zarr from 'zarrita';
import { METADATA } from '../stores/zarr-tree.js';

type Json = Record<string, unknown>;

export interface StoreNode {
  /** '/' for the root, '/0' for array 0 of the root group. */
  path: string;
  kind: 'array' | 'group';
  zarrFormat: 2 | 3;
  /** The document that declares the node (zarr.json, .zarray or .zgroup). */
  metadataFile: string;
  metadata: Json;
  attributes: Json;
  /** Arrays only: what zarrita.js reads. */
  array?: { shape: number[]; chunks: number[]; dtype: string; dimensionNames?: string[] };
  /** Arrays only: the chunk (or shard) files below the array's directory and their bytes. */
  storedFiles?: number;
  storedBytes?: number;
}

/** Why a store cannot be described: names the file (or directory) concerned. */
export class StoreReadError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'StoreReadError';
  }
}


async function readJson(file: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreReadError(file, (error as Error).message);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StoreReadError(file, `not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new StoreReadError(file, 'not a JSON object');
  return value as Json;
}

/** The node a directory declares, or undefined when it holds no Zarr metadata. */
async function nodeAt(root: string, nodePath: string): Promise<StoreNode | undefined> {
  const dir = path.join(root, nodePath);
  const v3 = await readJson(path.join(dir, 'zarr.json'));
  if (v3) {
    const kind = v3.node_type;
    if (kind !== 'array' && kind !== 'group') throw new StoreReadError(path.join(dir, 'zarr.json'), `node_type must be "array" or "group", got ${JSON.stringify(kind)}`);
    return { path: nodePath, kind, zarrFormat: 3, metadataFile: path.join(dir, 'zarr.json'), metadata: v3, attributes: (v3.attributes as Json) ?? {} };
  }
  const attributes = (await readJson(path.join(dir, '.zattrs'))) ?? {};
  const array = await readJson(path.join(dir, '.zarray'));
  if (array) return { path: nodePath, kind: 'array', zarrFormat: 2, metadataFile: path.join(dir, '.zarray'), metadata: array, attributes };
  const group = await readJson(path.join(dir, '.zgroup'));
  if (group) return { path: nodePath, kind: 'group', zarrFormat: 2, metadataFile: path.join(dir, '.zgroup'), metadata: group, attributes };
  return undefined;
}

async function countFiles(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || METADATA.has(entry.name) || entry.name.endsWith('.partial')) continue;
    files++;
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

/**
 * Every group and array of the store at `root`, the root first, then depth first in name order. `countStored`
 * (default true) also counts each array's stored files and bytes, which stats every chunk file.
 */
export async function storeNodes(root: string, { countStored = true } = {}): Promise<StoreNode[]> {
  const info = await stat(root).catch((error: NodeJS.ErrnoException) => {
    throw new StoreReadError(root, error.code === 'ENOENT' ? 'no such directory' : error.message);
  });
  if (!info.isDirectory()) throw new StoreReadError(root, 'not a directory (a Zarr store on disk is a directory)');
  const top = await nodeAt(root, '/');
  if (!top) throw new StoreReadError(root, 'not a Zarr store: it has no zarr.json, .zgroup or .zarray');
  const reader = zarr.root(new FileSystemStore(root));
  const nodes: StoreNode[] = [];
  const visit = async (node: StoreNode): Promise<void> => {
    nodes.push(node);
    const dir = path.join(root, node.path);
    if (node.kind === 'array') {
      try {
        const opened = await zarr.open(node.path === '/' ? reader : reader.resolve(node.path.slice(1)), { kind: 'array' });
        node.array = { shape: opened.shape, chunks: opened.chunks, dtype: String(opened.dtype), dimensionNames: opened.dimensionNames };
      } catch (error) {
        throw new StoreReadError(node.metadataFile, `zarrita.js cannot open this array (${(error as Error).message})`);
      }
      if (countStored) {
        const { files, bytes } = await countFiles(dir);
        node.storedFiles = files;
        node.storedBytes = bytes;
      }
      return;
    }
    const children = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name);
    for (const name of children.sort(byNumberThenName)) {
      const child = await nodeAt(root, path.posix.join(node.path, name));
      if (child) await visit(child);
    }
  };
  await visit(top);
  return nodes;
}

/** '2' before '10' (pyramid levels), then names in order. */
function byNumberThenName(a: string, b: string): number {
  const [na, nb] = [Number(a), Number(b)];
  if (Number.isInteger(na) && Number.isInteger(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
