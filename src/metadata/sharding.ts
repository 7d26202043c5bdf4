/**
 * The v3 `sharding_indexed` codec description (https://zarr-specs.readthedocs.io/en/latest/v3/codecs/sharding-indexed/):
 * the array's own codecs become the inner chunks' codecs, and the index is encoded with `bytes` (little endian) and
 * `crc32c`, at the end of each shard. Pure JSON builder.
 */
import type { ArrayLayout } from '../chunking/layout.js';
import { chunkShapeOf } from '../chunking/placement.js';

export const SHARD_INDEX_CODECS: ReadonlyArray<Record<string, unknown>> = [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'crc32c' }];

/** The codecs of a sharded array: one `sharding_indexed` codec wrapping `inner` (the unsharded array's codecs). */
export function shardingCodecs(layout: ArrayLayout, inner: ReadonlyArray<Record<string, unknown>>): Array<Record<string, unknown>> {
  return [
    {
      name: 'sharding_indexed',
      configuration: {
        chunk_shape: chunkShapeOf(layout),
        codecs: inner.map((codec) => ({ ...codec })),
        index_codecs: SHARD_INDEX_CODECS.map((codec) => ({ ...codec })),
        index_location: 'end',
      },
    },
  ];
}
