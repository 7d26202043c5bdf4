/**
 * ZarrSink's events, typed, and how errors met while it settles reach the caller: pieces of the sink that hold no
 * state of their own.
 */
import type { Readable } from 'node:stream';
import type { SinkProgress } from './zarr-sink.js';

/**
 * Attaches errors met while settling to the one the stream ends with, so none is lost and none escapes as an
 * uncaught exception: as its `cause` (one error, or an AggregateError of several, after any cause it had).
 * Without an error to end with, they become it.
 */
export function attachErrors(error: Error | null, problems: unknown[]): Error | null {
  if (problems.length === 0) return error;
  const all = problems.length === 1 ? (problems[0] as Error) : new AggregateError(problems, `${problems.length} store errors while closing`);
  if (!error) return all;
  const cause = error.cause === undefined ? all : new AggregateError([error.cause, ...problems], 'earlier cause and store errors while closing');
  try {
    Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
  } catch {
    // A frozen error keeps what it has; the stream still ends with it.
  }
  return error;
}

/** ZarrSink's events and their listeners' arguments: its own two, then Writable's. */
export interface ZarrSinkEvents {
  /** After each stored chunk, and once the metadata on disk shows a newly completed chunk row. */
  progress: [progress: SinkProgress];
  /** An adjustment made to the options (zarrTransforms emits them once listeners can be attached). */
  warning: [message: string];
  close: [];
  drain: [];
  error: [error: Error];
  finish: [];
  pipe: [source: Readable];
  unpipe: [source: Readable];
}

/** A listener of event E of the sink. */
export type SinkListener<E extends keyof ZarrSinkEvents> = (...args: ZarrSinkEvents[E]) => void;

