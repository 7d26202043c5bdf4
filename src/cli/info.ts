/** `zarr-stream info <store>`: what a Zarr store holds, ours or any other writer's, as text or as JSON. */
import path from 'node:path';
import { axisNames, describeCodecs, omeImage, type OmeImage } from '../inspect/describe.js';
import { storeNodes, type StoreNode } from '../inspect/store-nodes.js';
import { formatBytes } from './sizes.js';

/** Bytes per element of the numeric dtypes zarrita.js reads (bool and strings count as 1: a ratio only). */
const ITEM_SIZE: Record<string, number> = { int8: 1, uint8: 1, int16: 2, uint16: 2, float16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8 };

export interface ArraySummary {
  path: string;
  zarrFormat: 2 | 3;
  shape: number[];
  dtype: string;
  /** The chunk shape (of inner chunks, when sharded). */
  chunks: number[];
  /** The shard shape, when sharded. */
  shards?: number[];
  codecs: string;
  axes: string[];
  /** This level's scale per axis, from the OME-NGFF metadata. */
  scale?: number[];
  storedFiles: number;
  storedBytes: number;
  /** The array's logical size (shape x element size). */
  arrayBytes: number;
  /** arrayBytes / storedBytes; absent when nothing is stored. */
  ratio?: number;
}

export interface StoreSummary {
  store: string;
  zarrFormat: 2 | 3;
  groups: string[];
  ome?: { version: string; name?: string; axes: OmeImage['axes']; levels: string[] };
  arrays: ArraySummary[];
}

export async function summarizeStore(store: string): Promise<StoreSummary> {
  const root = path.resolve(store);
  const nodes = await storeNodes(root);
  const groups = nodes.filter((node) => node.kind === 'group');
  const image = groups.map((group) => ({ group, ome: omeImage(group.attributes) })).find((entry) => entry.ome);
  const arrays = nodes.filter((node) => node.kind === 'array').map((node) => summarizeArray(node, image?.group.path, image?.ome));
  return {
    store: root,
    zarrFormat: nodes[0]!.zarrFormat,
    groups: groups.map((group) => group.path),
    ome: image?.ome && { version: image.ome.version, name: image.ome.name, axes: image.ome.axes, levels: image.ome.datasets.map((dataset) => dataset.path) },
    arrays,
  };
}

function summarizeArray(node: StoreNode, imageGroup: string | undefined, ome: OmeImage | undefined): ArraySummary {
  const { shape, dtype, chunks, dimensionNames } = node.array!;
  const codecs = describeCodecs(node.metadata);
  // A dataset of the OME image: its path is relative to the image's group.
  const level = imageGroup === undefined ? undefined : ome?.datasets.find((dataset) => path.posix.join(imageGroup, dataset.path) === node.path);
  const arrayBytes = shape.reduce((product, size) => product * size, 1) * (ITEM_SIZE[dtype] ?? 1);
  const storedBytes = node.storedBytes ?? 0;
  return {
    path: node.path,
    zarrFormat: node.zarrFormat,
    shape,
    dtype,
    chunks: codecs.innerChunks ?? chunks,
    // zarrita gives a sharded array's inner chunk shape as its chunks: the shard shape is the metadata's chunk grid.
    shards: codecs.innerChunks && codecs.chunksPerShard ? codecs.innerChunks.map((size, axis) => size * codecs.chunksPerShard![axis]!) : undefined,
    codecs: codecs.text,
    axes: axisNames(shape.length, level ? ome : undefined, dimensionNames),
    scale: level?.scale,
    storedFiles: node.storedFiles ?? 0,
    storedBytes,
    arrayBytes,
    ratio: storedBytes > 0 ? Number((arrayBytes / storedBytes).toFixed(2)) : undefined,
  };
}

const tuple = (values: readonly (string | number)[]): string => `(${values.join(', ')})`;

export function formatStoreSummary(summary: StoreSummary): string[] {
  const lines = [`${summary.store}: Zarr v${summary.zarrFormat}, ${summary.groups.length} group(s), ${summary.arrays.length} array(s)`];
  if (summary.ome) {
    const axes = summary.ome.axes.map((axis) => `${axis.name}${axis.type || axis.unit ? ` [${[axis.type, axis.unit].filter(Boolean).join(', ')}]` : ''}`);
    lines.push(`OME-NGFF ${summary.ome.version} image${summary.ome.name ? ` "${summary.ome.name}"` : ''}: ${summary.ome.levels.length} level(s) ${tuple(summary.ome.levels)}, axes ${axes.join(', ')}`);
  }
  for (const array of summary.arrays) {
    lines.push(`array ${array.path}: ${array.dtype} ${tuple(array.axes)} = ${tuple(array.shape)}`);
    lines.push(`  chunks ${tuple(array.chunks)}${array.shards ? `, shards ${tuple(array.shards)}` : ''}; codecs: ${array.codecs}`);
    if (array.scale) lines.push(`  scale ${tuple(array.scale)}`);
    const ratio = array.ratio === undefined ? 'nothing stored yet' : `ratio ${array.ratio}`;
    lines.push(`  stored: ${formatBytes(array.storedBytes)} in ${array.storedFiles} file(s) for ${formatBytes(array.arrayBytes)} of data (${ratio})`);
  }
  return lines;
}

/** The command: the summary as text, or as one JSON object with --json. */
export async function runInfo(args: { store: string; json: boolean }): Promise<void> {
  const summary = await summarizeStore(args.store);
  process.stdout.write(args.json ? JSON.stringify(summary) + '\n' : formatStoreSummary(summary).join('\n') + '\n');
}
