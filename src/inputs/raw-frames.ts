/**
 * Raw frames from a byte stream (a file, or stdin from a camera process or a script): frame after frame of
 * planes x height x width pixels, C order, little endian, nothing in between. The stream is read as frames are
 * asked for, so a 50 GB file never sits in memory and a slow store slows the reading.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { bytesPerPixel, type DType } from '../dtype.js';
import type { Frame } from '../messages.js';
import { InputError } from './input-error.js';

export interface RawFrameShape {
  width: number;
  height: number;
  planes: number;
  dtype: DType;
}

export function rawFrameBytes(shape: RawFrameShape): number {
  return shape.width * shape.height * shape.planes * bytesPerPixel(shape.dtype);
}

/**
 * Yields at most `limit` frames (all when undefined) of `shape` from `bytes`, each in a buffer of its own: the chain
 * keeps reading a frame's pixels after it was yielded. A stream that ends inside a frame is an InputError naming
 * `name` and the frame's index, after the whole frames before it were yielded.
 */
export async function* rawFrames(bytes: Readable, shape: RawFrameShape, name: string, limit?: number): AsyncGenerator<Frame> {
  const frameBytes = rawFrameBytes(shape);
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  let index = 0;
  try {
    if (limit === 0) return;
    for await (const piece of bytes as AsyncIterable<Uint8Array>) {
      let at = 0;
      while (at < piece.byteLength) {
        const take = Math.min(frameBytes - filled, piece.byteLength - at);
        frame.set(piece.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled === frameBytes) {
          yield { data: frame, width: shape.width, height: shape.height, planes: shape.planes, dtype: shape.dtype };
          index++;
          if (index === limit) return;
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(name, index, (error as Error).message);
  } finally {
    bytes.destroy();
  }
  if (filled > 0) throw new InputError(name, index, `truncated: the input ended ${filled} bytes into a ${frameBytes}-byte frame (${shape.width}x${shape.height}x${shape.planes} ${shape.dtype})`);
}

/** A raw file's frames, read in 8 MiB pieces at most. */
export function rawFileFrames(file: string, shape: RawFrameShape, limit?: number): AsyncGenerator<Frame> {
  const frameBytes = rawFrameBytes(shape);
  return rawFrames(createReadStream(file, { highWaterMark: Math.min(frameBytes, 8 * 2 ** 20) }), shape, file, limit);
}
