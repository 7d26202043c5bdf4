/**
 * The highland adapter: for users whose frames already flow through a highland (https://caolan.github.io/highland/)
 * pipeline, so they can write them to Zarr without rewriting that pipeline as Node streams.
 *
 * Backpressure is kept. The highland stream is pulled one value at a time, only when the Node side asks for more
 * (a Readable with highWaterMark 1), so a slow store stops the highland source as it stops a Node source: no
 * value is taken from highland before zarrTransforms() has room for it.
 *
 * Errors follow Node's pipeline, not highland's: the first highland error (a throwing `.map`, a source error) fails
 * the write, and the highland stream is destroyed. Chunk rows completed before the error stay readable, as for any
 * failed pipeline. To skip bad values instead, handle them in highland first (`.errors()`, `.filter()`).
 */
// The declarations use highland's global `Highland` namespace; this keeps the reference in the emitted .d.ts.
/// <reference types="highland" preserve="true" />
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import highland from 'highland';
import type { FrameInput } from '../messages.js';
import type { ZarrStreamOptions } from '../options.js';
import type { SinkProgress } from '../sinks/zarr-sink.js';
import { sinkOf, zarrTransforms, type ZarrChain } from '../zarr-transforms.js';

/**
 * A Node object-mode Readable that pulls `stream` one value per read. The first highland error destroys it with
 * that error; destroying it destroys `stream`. null and undefined (which a Node stream cannot carry: null would
 * end it) fail it with a TypeError; so does a stream that another consumer already holds or has ended.
 */
export function highlandReadable<T>(stream: Highland.Stream<T>): Readable {
  let index = 0;
  return new Readable({
    objectMode: true,
    highWaterMark: 1,
    read() {
      // pull() on an ended stream never calls back; say so rather than wait forever. (`ended` is highland 2's own
      // flag, not in its typings.)
      if ((stream as { ended?: boolean }).ended) {
        this.destroy(new Error('the highland stream has already ended (consumed elsewhere?); fork() it to write it as well'));
        return;
      }
      stream.pull((error, value) => {
        if (this.destroyed) return;
        if (error) this.destroy(error);
        else if (highland.isNil(value)) this.push(null);
        else if (value === null || value === undefined) this.destroy(new TypeError(`highland stream value ${index} is ${value}; a Node stream cannot carry it`));
        else {
          index++;
          this.push(value);
        }
      });
    },
    destroy(error, callback) {
      stream.destroy();
      callback(error);
    },
  });
}

/**
 * Writes the frames of a highland stream (Frame objects, TypedArrays, Buffers) with zarrTransforms(options).
 * Generic because highland's Stream type is invariant: a `Highland.Stream<Frame>` is not a `Highland.Stream<FrameInput>`.
 * Resolves with the sink's final progress; rejects with the first error (an OptionError for bad options, before
 * `stream` is touched; a highland error; a frame or store error).
 */
export async function writeHighland<T extends FrameInput>(stream: Highland.Stream<T>, options: ZarrStreamOptions): Promise<SinkProgress> {
  const chain = zarrTransforms(options);
  await pipeline(highlandReadable(stream), ...chain);
  return sinkOf(chain).progress;
}

/**
 * For highland's `.through()`: `frames.through(zarrThrough(options))` is a highland stream of the sink's
 * 'progress' objects that ends once everything is written; its last value is the final progress. Like any highland
 * stream it is lazy: nothing is opened or written until it is consumed (`.last().toPromise(Promise)`, `.done()`,
 * `.each()`...). A failure is one highland error, then the end of the stream.
 */
export function zarrThrough(options: ZarrStreamOptions): <T extends FrameInput>(stream: Highland.Stream<T>) => Highland.Stream<SinkProgress> {
  return (stream) => {
    let started = false;
    return highland<SinkProgress>((push) => {
      // The generator runs on first consumption, and again only if next() is called, which it never is.
      if (started) return;
      started = true;
      let ended = false;
      const end = (error?: Error) => {
        if (ended) return;
        ended = true;
        if (error) push(error);
        push(null, highland.nil);
      };
      let chain: ZarrChain;
      try {
        chain = zarrTransforms(options);
      } catch (error) {
        end(error as Error);
        return;
      }
      sinkOf(chain).on('progress', (progress: SinkProgress) => {
        if (!ended) push(null, progress);
      });
      pipeline(highlandReadable(stream), ...chain).then(() => end(), (error: Error) => end(error));
    });
  };
}
