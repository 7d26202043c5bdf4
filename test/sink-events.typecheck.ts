/**
 * Compile-time test, checked by tsc as part of the build (not run): ZarrSink's events are typed, so a misspelt
 * event name or a listener of the wrong shape does not compile. Each @ts-expect-error fails the build if the line
 * below it compiles.
 */
import type { ZarrSink, SinkProgress } from '../src/index.js';

export function typedSinkEvents(sink: ZarrSink): void {
  sink.on('progress', (progress: SinkProgress) => progress.frames[0]);
  sink.once('warning', (message: string) => message.length);
  sink.off('progress', (progress) => progress.chunks);
  sink.on('error', (error: Error) => error.message);
  sink.on('finish', () => undefined);
  // @ts-expect-error: no such event ('progres')
  sink.on('progres', () => undefined);
  // @ts-expect-error: a warning is a string, not a number
  sink.on('warning', (message: number) => message);
  // @ts-expect-error: progress has no `frame` field
  sink.once('progress', (progress) => progress.frame);
  // @ts-expect-error: no such event ('warnings')
  sink.off('warnings', () => undefined);
}
