/** zarrTransforms(): the whole chain for `pipeline(source, ...zarrTransforms(options))`. */
import { resolveOptions, type ResolvedOptions, type ZarrStreamOptions } from './options.js';
import { omeAttributesV2, omeAttributesV3, type OmeAxis } from './metadata/ome.js';
import { FileSystemStore } from './stores/fs-store.js';
import { S3Store } from './stores/s3-store.js';
import { accumulateModeOf, ChunkAccumulator, type AccumulateMode } from './transforms/chunk-accumulator.js';
import { BloscCompressor } from './transforms/blosc-compressor.js';
import { Downsampler } from './transforms/downsampler.js';
import { TileSplitter } from './transforms/tile-splitter.js';
import { ZarrSink } from './sinks/zarr-sink.js';
import { closeAfterSink } from './sinks/close-after-sink.js';
import { frameCopiesBound, maxConcurrentWritesFor } from './resources/estimate.js';

/**
 * The transforms in pipeline order, then the sink. The tuple has a fixed length whatever the options (a stage that
 * has nothing to do passes messages through), so `pipeline(source, ...chain)` type-checks against Node's typings.
 */
export type ZarrChain = [Downsampler, TileSplitter, ChunkAccumulator, BloscCompressor, ZarrSink];

/** The chain's sink (its last element): progress events, `progress`, and the store. */
export function sinkOf(chain: ZarrChain): ZarrSink {
  return chain[chain.length - 1] as ZarrSink;
}

/**
 * Validates `options` (throwing an OptionError that names the bad field before anything exists or is written) and
 * returns [Downsampler, TileSplitter, ChunkAccumulator, BloscCompressor, ZarrSink].
 */
export function zarrTransforms(options: ZarrStreamOptions): ZarrChain {
  const resolved = resolveOptions(options);
  // A path becomes a FileSystemStore, an s3:// URL an S3Store: neither does I/O until the stream runs (the sink opens it).
  const store =
    typeof resolved.store !== 'string' ? resolved.store : resolved.s3 ? new S3Store(resolved.store, resolved.s3) : new FileSystemStore(resolved.store, { durable: resolved.durable });
  const { layouts } = resolved;
  const splitter = new TileSplitter({ layouts, maxFrames: maxFramesOf(resolved) });
  // Without a codec nothing needs a whole chunk: raw chunks stream to the store tile by tile.
  // Chunks are compressed in segments as their frames arrive (where they cut into whole Blosc blocks): those levels
  // get parts from the accumulator, naming each tile's region for the compressor to copy into its segments.
  const compressor = new BloscCompressor({ settings: resolved.blosc, workers: resolved.workers, engine: resolved.engine, layouts, streamBlocks: resolved.streamBlocks });
  const modes = layouts.map((layout): AccumulateMode => accumulateModeOf(layout, Boolean(resolved.blosc), Boolean(compressor.blockPlans[layout.level])));
  const wholeChunks = modes[0] === 'whole';
  const maxConcurrentWrites = maxConcurrentWritesFor(wholeChunks);
  // With one level the Downsampler only validates, numbers and (frameOwnership 'copy') copies the frames.
  const downsampler = new Downsampler({
    levels: layouts.map((layout) => layout.frame),
    method: resolved.downsampleMethod,
    dtype: resolved.dtype,
    frameOwnership: resolved.frameOwnership,
    pairing: resolved.pairing,
    frameBuffers: frameCopiesBound(layouts[0]!.tilesPerFrame, maxConcurrentWrites),
    onFrameMetadata: (t, metadata) => sink.addFrameMetadata(t, metadata),
  });
  // Whole chunks are large: one spare per worker lets the next chunk row start while this one compresses, and the
  // sink writes a few at a time. Together they keep writer memory within ~1.5 chunk rows (docs/benchmarks.md).
  const accumulator = new ChunkAccumulator({ layouts, mode: modes, spareChunks: compressor.workers });
  const sink = new ZarrSink({
    store,
    zarrVersion: resolved.zarrVersion,
    layouts,
    overwrite: resolved.overwrite,
    rootAttributes: rootAttributes(resolved),
    attributes: resolved.attributes,
    path: resolved.path,
    codecs: compressor.codecs,
    maxConcurrentWrites,
    highWaterMark: wholeChunks ? 1 : undefined,
  });
  for (const warning of resolved.warnings) {
    if (options.onWarning) options.onWarning(warning);
    // Emitted once listeners can be attached (after zarrTransforms returns), like Node's own deferred events.
    process.nextTick(() => {
      if (sink.listenerCount('warning') > 0) sink.emit('warning', warning);
      else if (!options.onWarning) process.emitWarning(warning, 'ZarrStreamWarning');
    });
  }
  const chain: ZarrChain = [downsampler, splitter, accumulator, compressor, sink];
  // So that pipeline() rejects only once the store is final (sinks/close-after-sink.ts).
  for (const stage of [downsampler, splitter, accumulator, compressor]) closeAfterSink(stage, sink);
  return chain;
}

/** With a fixed size along the append dimension: the frames the array holds; more are an error. */
function maxFramesOf(resolved: ResolvedOptions): number | undefined {
  const append = resolved.dimensions?.resolved.all[0];
  return append && append.size > 0 ? append.size * resolved.layouts[0]!.framesPerStep : undefined;
}

/** OME-NGFF image metadata, written for one level as for many. */
function rootAttributes(resolved: ResolvedOptions): Record<string, unknown> {
  const dims = resolved.dimensions;
  const ome = {
    levels: resolved.layouts.length,
    pixelScaleUm: resolved.pixelScaleUm,
    method: resolved.downsampleMethod,
    name: resolved.name,
    downsampleTime: resolved.downsampleTime,
    dimensions: dims && {
      axes: dims.resolved.all.map((d): OmeAxis => ({ name: d.name, ...(d.kind === 'other' ? {} : { type: d.kind }), ...(d.unit ? { unit: d.unit } : {}) })),
      scales: dims.levels.scales,
      factors: Object.fromEntries(dims.resolved.all.map((d, i) => [d.name, dims.levels.factors[1]?.[i] ?? 1])),
    },
  };
  return { ...(resolved.zarrVersion === 2 ? omeAttributesV2(ome) : omeAttributesV3(ome)) };
}
