/** Pure builders of Zarr v2 and v3 metadata documents and chunk keys. No I/O. */
import type { ArrayLayout } from '../chunking/layout.js';
import { v2DataType, v3DataType } from '../dtype.js';
import { shardShape } from '../chunking/shards.js';
import { arrayShapeOf, chunkShapeOf } from '../chunking/placement.js';
import { shardingCodecs } from './sharding.js';

export type ZarrVersion = 2 | 3;

/** Codec description of an array, as each format spells it; raw arrays use the defaults below. */
export interface CodecMetadata {
  /** v2 `compressor` (null: none). */
  v2Compressor: Record<string, unknown> | null;
  /** v3 `codecs`, starting with the `bytes` codec. */
  v3Codecs: Array<Record<string, unknown>>;
}

export const RAW_CODECS: CodecMetadata = {
  v2Compressor: null,
  v3Codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
};

/** The array's shape with `frames` steps along the append dimension, and its chunk shape: placement.ts computes both. */
export { arrayShapeOf as arrayShape, chunkShapeOf as chunkShape } from '../chunking/placement.js';

/** `.zarray` of a v2 array holding `frames` frames. */
export function v2ArrayMetadata(layout: ArrayLayout, frames: number, codecs: CodecMetadata = RAW_CODECS): Record<string, unknown> {
  return {
    zarr_format: 2,
    shape: arrayShapeOf(layout, frames),
    chunks: chunkShapeOf(layout),
    dtype: v2DataType(layout.dtype),
    compressor: codecs.v2Compressor,
    fill_value: 0,
    order: 'C',
    filters: null,
    dimension_separator: '/',
  };
}

/** `zarr.json` of a v3 array holding `frames` frames; sharded, its chunk grid is the shard shape (layout.shardChunks). */
export function v3ArrayMetadata(layout: ArrayLayout, frames: number, codecs: CodecMetadata = RAW_CODECS): Record<string, unknown> {
  const shard = layout.shardChunks;
  return {
    zarr_format: 3,
    node_type: 'array',
    shape: arrayShapeOf(layout, frames),
    data_type: v3DataType(layout.dtype),
    chunk_grid: { name: 'regular', configuration: { chunk_shape: shard ? shardShape(layout, shard) : chunkShapeOf(layout) } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 0,
    codecs: shard ? shardingCodecs(layout, codecs.v3Codecs) : codecs.v3Codecs,
    attributes: {},
    dimension_names: [...layout.names],
  };
}

export function v2GroupMetadata(): Record<string, unknown> {
  return { zarr_format: 2 };
}

export function v3GroupMetadata(attributes: Record<string, unknown> = {}): Record<string, unknown> {
  return { zarr_format: 3, node_type: 'group', attributes };
}

/** Keys of the metadata documents of the root group and of an array at `path`. */
export function metadataKeys(version: ZarrVersion, arrayPath: string): { group: string; groupAttributes?: string; array: string } {
  return version === 2
    ? { group: '.zgroup', groupAttributes: '.zattrs', array: `${arrayPath}/.zarray` }
    : { group: 'zarr.json', array: `${arrayPath}/zarr.json` };
}

/** The key of a chunk: v2 `path/t/c/y/x` ("/" dimension separator), v3 default encoding `path/c/t/c/y/x`. */
export function chunkKey(version: ZarrVersion, arrayPath: string, coords: readonly number[]): string {
  return version === 2 ? `${arrayPath}/${coords.join('/')}` : `${arrayPath}/c/${coords.join('/')}`;
}

export function encodeJson(document: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(document, null, 2) + '\n');
}
