/**
 * Where `zarr-stream write` takes its frames from (--input): the standard synthetic frames, raw frames from a file or
 * stdin, or a multi-page (OME-)TIFF. Resolves the frame shape (from the flags, or from the TIFF, where flags that
 * contradict the file are an error), the frame count when it is known, and the pixel size an OME-TIFF gives.
 */
import { stat } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { DType } from '../dtype.js';
import { syntheticFrames } from '../frames/synthetic.js';
import { InputError } from '../inputs/input-error.js';
import { rawFileFrames, rawFrameBytes, rawFrames, type RawFrameShape } from '../inputs/raw-frames.js';
import { openTiff } from '../inputs/tiff-frames.js';
import type { Frame } from '../messages.js';
import { FlagError } from './flag-values.js';

export interface WriteInput {
  /** For messages: 'synthetic frames', 'stdin', or the file's path. */
  name: string;
  shape: RawFrameShape;
  /** Frames the input will give, when known (not for stdin without --frames). */
  frames: number | undefined;
  pixelScaleUm?: { x: number; y: number };
  /** The frames, read as they are asked for. Each frame has a buffer of its own (frameOwnership 'transfer'). */
  source(): AsyncIterable<Frame>;
}

/**
 * The frames of `input`, ending cleanly at the first InputError (a truncated frame, a bad page), which goes to
 * `failed` instead of failing the pipeline: a failed pipeline drops the frames still on their way to the store,
 * while an ended one stores every whole frame before it, with metadata that says so. The caller reports it then.
 */
export async function* untilInputError(frames: AsyncIterable<Frame>, failed: (error: InputError) => void): AsyncGenerator<Frame> {
  try {
    yield* frames;
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    failed(error);
  }
}

/** The shape flags as given (after defaults), and which of them the user gave. */
export interface InputFlags extends RawFrameShape {
  /** --frames: the count for synthetic frames; at most this many from a file or stdin when given. */
  frames: number;
  given: ReadonlySet<string>;
}

/** The first bytes of a TIFF (II*\0, MM\0*) or a BigTIFF (II+\0, MM\0+). */
async function isTiff(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    if (bytesRead < 4) return false;
    const magic = buffer.toString('latin1');
    return magic === 'II*\0' || magic === 'MM\0*' || magic === 'II+\0' || magic === 'MM\0+';
  } finally {
    await fh.close();
  }
}

export async function openWriteInput(input: string, flags: InputFlags): Promise<WriteInput> {
  const shape: RawFrameShape = { width: flags.width, height: flags.height, planes: flags.planes, dtype: flags.dtype };
  const limit = flags.given.has('frames') ? flags.frames : undefined;
  if (input === 'synthetic') {
    return { name: 'synthetic frames', shape, frames: flags.frames, source: () => syntheticFrames({ frames: flags.frames, ...shape }) };
  }
  if (input === '-') {
    return { name: 'stdin', shape, frames: limit, source: () => rawFrames(process.stdin, shape, 'stdin', limit) };
  }
  const info = await stat(input).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(input, undefined, error.code === 'ENOENT' ? 'no such file' : error.message);
  });
  if (!info.isFile()) throw new InputError(input, undefined, 'not a file');
  const tiffName = /\.tiff?$/i.test(input);
  const tiffHeader = await isTiff(input).catch((error: Error) => {
    throw new InputError(input, undefined, `cannot be read (${error.message})`);
  });
  if (tiffName && !tiffHeader) throw new InputError(input, undefined, 'not a TIFF file (its first bytes are not a TIFF header); raw frames need another file name than .tif');
  if (tiffHeader) {
    const tiff = await openTiff(input);
    const fromFile: Record<string, string | number> = { width: tiff.width, height: tiff.height, planes: tiff.planes, dtype: tiff.dtype };
    for (const [flag, value] of Object.entries(fromFile)) {
      if (flags.given.has(flag) && String(flags[flag as keyof RawFrameShape]) !== String(value)) {
        throw new FlagError(`--${flag} ${flags[flag as keyof RawFrameShape]} contradicts ${input}, whose frames are ${tiff.width}x${tiff.height}x${tiff.planes} ${tiff.dtype} (leave --${flag} out)`);
      }
    }
    const frames = limit === undefined ? tiff.frames : Math.min(limit, tiff.frames);
    return {
      name: input,
      shape: { width: tiff.width, height: tiff.height, planes: tiff.planes, dtype: tiff.dtype as DType },
      frames,
      pixelScaleUm: tiff.pixelScaleUm,
      source: () => take(tiff.read(), frames),
    };
  }
  // Raw frames: whole frames in the file; a truncated last one fails after the frames before it are stored.
  const whole = Math.floor(info.size / rawFrameBytes(shape));
  const frames = limit === undefined ? whole : Math.min(limit, whole);
  return { name: input, shape, frames, source: () => rawFileFrames(input, shape, limit) };
}

/** The first `count` frames of `frames`, then stop reading (the generator's cleanup closes the file). */
async function* take(frames: AsyncGenerator<Frame>, count: number): AsyncGenerator<Frame> {
  if (count === 0) return void (await frames.return(undefined));
  let taken = 0;
  for await (const frame of frames) {
    yield frame;
    if (++taken === count) return;
  }
}
