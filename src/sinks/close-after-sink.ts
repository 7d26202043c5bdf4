/**
 * pipeline() settles once it has counted every stream as finished, but it counts a middle stage that closes early
 * (an error, an abort) once more than its share, so it can reject while the sink is still writing: metadata landed
 * after the rejection and temporaries were still there. Each stage of the chain therefore closes only after the
 * sink has settled: a stage destroyed before it finished destroys the sink with the same error (so the sink stops
 * at once, whoever noticed the problem) and completes its own destroy when the sink's clean-up is done. A rejection
 * of pipeline() then means the store is what it will be.
 */
import type { Duplex } from 'node:stream';
import type { ZarrSink } from './zarr-sink.js';

export function closeAfterSink(stage: Duplex, sink: ZarrSink): void {
  const destroy = stage._destroy.bind(stage);
  stage._destroy = (error, callback) => {
    destroy(error, (ownError) => {
      // A stage that ended normally (autoDestroy after 'end' and 'finish') has nothing to wait for.
      if (stage.writableFinished && stage.readableEnded) return callback(ownError);
      if (!sink.destroyed) sink.destroy(error ?? ownError ?? undefined);
      void sink.settled.then(() => callback(ownError));
    });
  };
}
