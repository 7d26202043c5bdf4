/**
 * Per-frame metadata at acquisition scale (docs/format.md): 100,000 frames, each with a camera-style record, written
 * as one attribute list rewritten at every chunk row (the naive way) versus the frame_metadata companion array
 * (what the sink does). Run: `npx tsc -p tsconfig.json && node dist/bench/frame-metadata.js [frames] [framesPerRow]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileSystemStore } from '../src/stores/fs-store.js';
import { FrameMetadataLog, frameMetadataChunkKey, frameMetadataDocuments } from '../src/metadata/frame-metadata.js';
import { encodeJson } from '../src/metadata/zarr.js';

const frames = Number(process.argv[2] ?? 100_000);
const framesPerRow = Number(process.argv[3] ?? 64);
const metadataOf = (t: number): Record<string, unknown> => ({ t, timestampUs: 1_700_000_000_000_000 + t * 10_000, exposureMs: 10, stage: { x: 1234.5, y: -87.25, z: 12.5 } });

const dir = await mkdtemp(path.join(os.tmpdir(), 'zs-bench-meta-'));
try {
  const store = new FileSystemStore(dir, { durable: true });
  // The naive way: every frame's record in one attribute, the whole document rewritten per chunk row.
  const all: unknown[] = [];
  let naiveBytes = 0;
  let lastRewriteMs = 0;
  const naiveStart = performance.now();
  const naiveRows = Math.min(Math.ceil(frames / framesPerRow), 200);
  // Only the last `naiveRows` rewrites are timed (the whole run would take too long: that is the point).
  for (let t = 0; t < frames; t++) all.push(metadataOf(t));
  for (let row = 0; row < naiveRows; row++) {
    const start = performance.now();
    const document = encodeJson({ zarr_format: 3, node_type: 'group', attributes: { frame_metadata: all } });
    await store.set('naive/zarr.json', document);
    lastRewriteMs = performance.now() - start;
    naiveBytes = document.byteLength;
  }
  const naivePerRewrite = (performance.now() - naiveStart) / naiveRows;
  // Sum over rows r of (r/rows of the final size): about rows/2 full rewrites.
  const rows = Math.ceil(frames / framesPerRow);
  const naiveTotalBytes = (naiveBytes * (rows + 1)) / 2;

  // The companion array: one update per chunk row, writing only the chunks it touches.
  const log = new FrameMetadataLog();
  let written = 0;
  let totalBytes = 0;
  let worstMs = 0;
  const start = performance.now();
  for (let t = 0; t < frames; t++) {
    log.add(t, metadataOf(t));
    if ((t + 1) % framesPerRow !== 0 && t + 1 !== frames) continue;
    const updateStart = performance.now();
    const plan = log.plan(t + 1)!;
    await Promise.all(plan.chunks.map(({ index, bytes }) => store.set(`companion/${frameMetadataChunkKey(3, index)}`, bytes)));
    for (const [key, document] of frameMetadataDocuments(3, plan)) await store.set(`companion/${key}`, document);
    log.commit(plan);
    totalBytes = plan.totalBytes;
    written += plan.chunks.reduce((sum, chunk) => sum + chunk.bytes.byteLength, 0);
    worstMs = Math.max(worstMs, performance.now() - updateStart);
  }
  const companionMs = performance.now() - start;
  const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  console.log(`${frames} frames, ${framesPerRow} frames per chunk row (${rows} updates), durable FileSystemStore in ${os.tmpdir()}`);
  console.log(`attribute list: ${mb(naiveBytes)} document; one rewrite ${naivePerRewrite.toFixed(0)} ms (last ${lastRewriteMs.toFixed(0)} ms); ` +
    `rewritten per row: ~${mb(naiveTotalBytes)} written, ~${((naivePerRewrite * (rows + 1)) / 2 / 1000).toFixed(0)} s`);
  console.log(`frame_metadata array: ${mb(totalBytes)}; ${mb(written)} written in all, ${(companionMs / 1000).toFixed(1)} s in all, ${(companionMs / rows).toFixed(2)} ms per update (worst ${worstMs.toFixed(1)} ms)`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
