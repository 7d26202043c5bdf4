/**
 * What `zarr-stream write` says when it is done: the summary (printed as JSON with --json) and its text, from the
 * sink's final progress. Pure formatting; the store is not read again.
 */
import type { ArrayLayout } from '../chunking/layout.js';
import { shardShape } from '../chunking/shards.js';
import { arrayShape, chunkShape } from '../metadata/zarr.js';
import { frameBytesOf } from '../resources/estimate.js';
import type { ZarrSink } from '../sinks/zarr-sink.js';
import type { BloscCompressor } from '../transforms/blosc-compressor.js';
import { formatBytes } from './sizes.js';

export interface SummaryInput {
  /** The store as the user should find it: an absolute directory or the s3:// URL. */
  where: string;
  /** The image's path in the store (--path), if any. */
  path: string | undefined;
  sink: ZarrSink;
  compressor: BloscCompressor;
  /** The frames' bytes (level 0) and the wall time of the write. */
  rawBytes: number;
  seconds: number;
}

export type WriteSummary = ReturnType<typeof writeSummary>;

export function writeSummary({ where, path, sink, compressor, rawBytes, seconds }: SummaryInput) {
  const layout = sink.layouts[0]!;
  return {
    store: where,
    zarrVersion: sink.zarrVersion,
    array: path === undefined ? '0' : `${path}/0`,
    shape: arrayShape(layout, sink.progress.frames[0]!),
    chunks: chunkShape(layout),
    dtype: layout.dtype,
    compression: compressor.engineName
      ? { ...sink.codecs.v2Compressor, engine: compressor.engineName, workers: compressor.workers, streamedLevels: streamedLevels(compressor.blockPlans, sink.layouts.length) }
      : ('none' as const),
    levels: sink.layouts.map((level, index) => ({ path: level.path, shape: arrayShape(level, sink.progress.frames[index]!), chunks: chunkShape(level) })),
    chunkFiles: sink.progress.chunks,
    shardFiles: layout.shardChunks ? sink.progress.files : undefined,
    shards: layout.shardChunks && shardShape(layout, layout.shardChunks),
    rawBytes,
    storedBytes: sink.progress.bytes,
    seconds: Number(seconds.toFixed(3)),
    mbPerSecond: Number((rawBytes / 1e6 / seconds).toFixed(1)),
  };
}

/** The summary as lines of text; with `demoOut`, followed by how to open the demo's dataset. */
export function summaryText(summary: WriteSummary, sink: ZarrSink, demoOut?: string): string {
  const layout = sink.layouts[0]!;
  const lines = [
    `wrote ${summary.store} (Zarr v${summary.zarrVersion}): array "${summary.array}" of shape (${layout.names.join(', ')}) = (${summary.shape.join(', ')}), ${layout.dtype}`,
    `  chunks (${summary.chunks.join(', ')}), ${summary.shards ? `${summary.chunkFiles} chunks in ${summary.shardFiles} shard files of (${summary.shards.join(', ')})` : `${summary.chunkFiles} chunk files`}, ${formatBytes(summary.rawBytes)} in ${summary.seconds.toFixed(2)} s (${summary.mbPerSecond} MB/s)`,
    `  compression: ${compressionText(summary.compression as 'none' | Record<string, unknown>, dataBytesOf(sink.layouts, sink.progress.frames), summary.storedBytes)}`,
    ...summary.levels.slice(1).map((level) => `  level ${level.path}: shape (${level.shape.join(', ')}), chunks (${level.chunks.join(', ')})`),
  ];
  if (demoOut !== undefined) lines.push('', ...openSnippets(demoOut, summary.zarrVersion));
  return lines.join('\n') + '\n';
}

/** The frames' bytes stored at every level: what the ratio and MB/s speak of (not the padding of short chunks). */
export function dataBytesOf(layouts: readonly ArrayLayout[], frames: readonly number[]): number {
  return layouts.reduce((sum, layout, level) => sum + (frames[level] ?? 0) * layout.framesPerStep * frameBytesOf(layout), 0);
}

/** The ratio compares the frames' bytes, at every level, with the bytes stored for them. */
function compressionText(compression: 'none' | Record<string, unknown>, rawBytes: number, storedBytes: number): string {
  if (compression === 'none') return 'none';
  const { cname, clevel, shuffle, engine, workers, streamedLevels: streamed } = compression;
  const ratio = storedBytes > 0 ? (rawBytes / storedBytes).toFixed(2) : '-';
  const how = (streamed as number[]).length > 0 ? `, compressed as frames arrive (levels ${(streamed as number[]).join(', ')})` : ', whole chunks';
  return `blosc ${cname} clevel ${clevel} shuffle ${['none', 'byte', 'bit'][shuffle as number]}, ratio ${ratio}, ${engine} engine on ${workers} worker threads${how}`;
}

/** The levels whose chunks were compressed in segments as their frames arrived (docs/compression.md). */
function streamedLevels(plans: readonly unknown[], levels: number): number[] {
  return Array.from({ length: levels }, (_, level) => level).filter((level) => plans[level] !== undefined);
}

function openSnippets(out: string, zarrVersion: 2 | 3): string[] {
  const store = JSON.stringify(out);
  return [
    `open it in zarr-python${zarrVersion === 3 ? ' (3.x reads v3; use --zarr-version 2 for zarr-python 2.x)' : ''}:`,
    `  python3 -c 'import zarr; a = zarr.open_array(${store}, path="0", mode="r"); print(a.shape, a[0, 0, :2, :8])'`,
    'open it in zarrita.js (node, ESM):',
    `  import * as zarr from "zarrita"; import FileSystemStore from "@zarrita/storage/fs";`,
    `  const a = await zarr.open(zarr.root(new FileSystemStore(${store})).resolve("0"), { kind: "array" }); console.log(a.shape, await zarr.get(a, [0, 0, null, null]));`,
  ];
}
