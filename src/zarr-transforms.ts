/** zarrTransforms(): the whole chain for `pipeline(source, ...zarrTransforms(options))`. */
import type { Transform } from 'node:stream';
import { resolveOptions, OptionError, type ZarrStreamOptions } from './options.js';
import { FileSystemStore } from './stores/fs-store.js';
import type { Store } from './stores/store.js';
import { ChunkAccumulator } from './transforms/chunk-accumulator.js';
import { TileSplitter } from './transforms/tile-splitter.js';
import { ZarrSink } from './sinks/zarr-sink.js';

/** The transforms in pipeline order, then the sink. */
export type ZarrChain = [...Transform[], ZarrSink];

export function zarrTransforms(options: ZarrStreamOptions): [TileSplitter, ChunkAccumulator, ZarrSink] {
  const resolved = resolveOptions(options);
  const store = openStore(resolved.store, resolved.overwrite);
  const layouts = [resolved.layout];
  const splitter = new TileSplitter({ layouts });
  const accumulator = new ChunkAccumulator({ layouts, mode: 'parts' });
  const sink = new ZarrSink({ store, zarrVersion: resolved.zarrVersion, layouts, overwrite: resolved.overwrite });
  for (const warning of resolved.warnings) {
    if (options.onWarning) options.onWarning(warning);
    // Emitted once listeners can be attached (after zarrTransforms returns), like Node's own deferred events.
    process.nextTick(() => {
      if (sink.listenerCount('warning') > 0) sink.emit('warning', warning);
      else if (!options.onWarning) process.emitWarning(warning, 'ZarrStreamWarning');
    });
  }
  return [splitter, accumulator, sink];
}

/** A path becomes a FileSystemStore; a non-empty directory is refused now, before any stream runs. */
function openStore(store: string | Store, overwrite: boolean): Store {
  if (typeof store !== 'string') return store;
  let empty: boolean;
  try {
    empty = FileSystemStore.isEmptySync(store);
  } catch (error) {
    throw new OptionError('store', store, `a directory path (${(error as Error).message})`);
  }
  if (!empty && !overwrite) throw new OptionError('store', store, 'an empty or new directory, or overwrite: true');
  return new FileSystemStore(store);
}
