/** The standard benchmark workloads of the project (docs/benchmarks.md), as defined for every writer we compare. */
import type { DType } from '../src/dtype.js';
import type { Dimension } from '../src/chunking/dimensions.js';

export interface Workload {
  name: string;
  frames: number;
  width: number;
  height: number;
  dtype: DType;
  /** Chunk shape (t, y, x). */
  chunk: [number, number, number];
  codec?: { cname: 'lz4' | 'zstd'; clevel: number; shuffle: 'byte' };
  multiscale?: boolean;
  zarrVersions: Array<2 | 3>;
  /** Zarr v3 shards: chunks per shard along (t, c, y, x) (zarr-stream's shardChunks). */
  shardChunks?: [number, number, number, number];
  /** A workload that is this one minus one feature, written in the same rounds so their times compare. */
  reference?: string;
  /** An N-D workload: zarr-stream's `dimensions` (frames are 2-D, `frames` of them in `acquisitionOrder`). */
  dimensions?: Dimension[];
  acquisitionOrder?: string[];
}

export const WORKLOADS: Record<string, Workload> = {
  W1: { name: 'W1 raw', frames: 128, width: 2048, height: 2048, dtype: 'uint16', chunk: [64, 512, 512], zarrVersions: [2, 3] },
  W2: { name: 'W2 lz4', frames: 128, width: 2048, height: 2048, dtype: 'uint16', chunk: [64, 512, 512], codec: { cname: 'lz4', clevel: 1, shuffle: 'byte' }, zarrVersions: [2, 3] },
  W3: { name: 'W3 zstd', frames: 128, width: 2048, height: 2048, dtype: 'uint16', chunk: [64, 512, 512], codec: { cname: 'zstd', clevel: 1, shuffle: 'byte' }, zarrVersions: [2, 3] },
  // The shared sharding workload: chunks 32x256x256 in shards of 64x1024x1024; zarrita.js writes the same chunks unsharded.
  W5: { name: 'W5 lz4 sharded', frames: 128, width: 2048, height: 2048, dtype: 'uint16', chunk: [32, 256, 256], shardChunks: [2, 1, 4, 4], codec: { cname: 'lz4', clevel: 1, shuffle: 'byte' }, zarrVersions: [3], reference: 'W2' },
  // 5-D: 2 time points x 2 channels x 32 z of 2048 x 2048, a z-stack per channel, chunks 1 x 1 x 16 x 512 x 512.
  W6: {
    name: 'W6 5-D lz4', frames: 128, width: 2048, height: 2048, dtype: 'uint16', chunk: [1, 512, 512], codec: { cname: 'lz4', clevel: 1, shuffle: 'byte' }, zarrVersions: [2, 3],
    dimensions: [
      { name: 't', kind: 'time', size: 0, chunk: 1 },
      { name: 'c', kind: 'channel', size: 2, chunk: 1 },
      { name: 'z', kind: 'space', size: 32, chunk: 16, unit: 'micrometer' },
      { name: 'y', kind: 'space', size: 2048, chunk: 512, unit: 'micrometer' },
      { name: 'x', kind: 'space', size: 2048, chunk: 512, unit: 'micrometer' },
    ],
    acquisitionOrder: ['t', 'c', 'z'],
  },
  W4: { name: 'W4 multiscale', frames: 128, width: 2048, height: 2048, dtype: 'uint16', chunk: [64, 512, 512], codec: { cname: 'lz4', clevel: 1, shuffle: 'byte' }, multiscale: true, zarrVersions: [3], reference: 'W2' },
};
