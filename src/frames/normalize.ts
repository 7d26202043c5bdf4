/** Turns what a user's source pushes into validated level-0 FrameMessages. */
import { bytesPerPixel, dtypeOfArray, isDType, type DType } from '../dtype.js';
import type { FrameInput, FrameMessage } from '../messages.js';
import type { FrameShape } from '../chunking/layout.js';
import { describeValue } from '../util/describe-value.js';
import { checkJsonObject } from '../metadata/attributes.js';

export interface ExpectedFrame extends FrameShape {
  dtype: DType;
}

/** A frame that does not match the declared shape or dtype; names the frame index, what was expected and what came. */
export class FrameMismatchError extends Error {
  constructor(
    readonly frameIndex: number,
    readonly expected: string,
    readonly received: string,
  ) {
    super(`frame ${frameIndex}: expected ${expected}, got ${received}`);
    this.name = 'FrameMismatchError';
  }
}

function frameShapeText(width: unknown, height: unknown, planes: unknown, dtype: unknown): string {
  const text = (value: unknown): string => (typeof value === 'number' || typeof value === 'string' ? String(value) : describeValue(value));
  return `${text(width)}x${text(height)}x${text(planes)} ${text(dtype)}`;
}

/**
 * Validates one input frame against the declared shape and returns it as a FrameMessage that views the same bytes
 * (no copy). A bare Uint8Array/Buffer is taken as raw little-endian bytes of the declared dtype; any other TypedArray
 * must be of the declared dtype.
 */
export function normalizeFrame(input: FrameInput | FrameMessage, t: number, expected: ExpectedFrame): FrameMessage {
  // Only messages the chain made itself pass as they are: a user's value is validated whatever its shape.
  if (isFrameMessage(input)) return input;
  const want = frameShapeText(expected.width, expected.height, expected.planes, expected.dtype);
  const wantBytes = expected.width * expected.height * expected.planes * bytesPerPixel(expected.dtype);
  const wantText = `${want} (${wantBytes} bytes)`;
  let data: ArrayBufferView;
  let metadata: Record<string, unknown> | undefined;
  if (ArrayBuffer.isView(input)) {
    data = input;
  } else if (input !== null && typeof input === 'object' && ArrayBuffer.isView((input as { data?: unknown }).data)) {
    const { width, height, dtype } = input;
    const planes = input.planes ?? 1;
    if (width !== expected.width || height !== expected.height || planes !== expected.planes || dtype !== expected.dtype) {
      throw new FrameMismatchError(t, wantText, frameShapeText(width, height, planes, isDType(dtype) ? dtype : describeValue(dtype)));
    }
    data = input.data;
    metadata = input.metadata;
    // Checked only when given: frames without metadata cost nothing more.
    if (metadata !== undefined) checkJsonObject(metadata, `frame ${t}: metadata`);
  } else {
    throw new FrameMismatchError(t, `a Frame object or a TypedArray (${wantText})`, describeInput(input));
  }
  const arrayType = dtypeOfArray(data);
  const isBytes = data instanceof Uint8Array || (data.constructor === Uint8ClampedArray) || data instanceof DataView;
  if (!isBytes && arrayType !== expected.dtype) {
    throw new FrameMismatchError(t, wantText, `a ${data.constructor.name} (${arrayType ?? 'unknown dtype'} data)`);
  }
  if (data.byteLength !== wantBytes) {
    throw new FrameMismatchError(t, wantText, `${data.byteLength} bytes of ${isBytes ? 'raw data' : arrayType}`);
  }
  const message: FrameMessage = {
    kind: 'frame',
    level: 0,
    t,
    width: expected.width,
    height: expected.height,
    planes: expected.planes,
    dtype: expected.dtype,
    bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
  if (metadata !== undefined) message.metadata = metadata;
  return chainFrame(message);
}

/**
 * The FrameMessages the chain made (validated and numbered by it). A source value shaped like one
 * (`{ kind: 'frame', t, bytes, ... }`) is not among them: it would otherwise skip the frame checks and bring its own
 * index, and a repeated index overwrites stored frames. A WeakSet, not a property: spreads and user code cannot
 * copy or forge it.
 */
const chainFrames = new WeakSet<FrameMessage>();

/** Marks `message` as made by the chain; returns it. */
export function chainFrame(message: FrameMessage): FrameMessage {
  chainFrames.add(message);
  return message;
}

/** Whether `value` is a FrameMessage the chain made (see chainFrame); a look-alike from a source is not. */
export function isFrameMessage(value: unknown): value is FrameMessage {
  return typeof value === 'object' && value !== null && chainFrames.has(value as FrameMessage);
}

function describeInput(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return `${typeof value} ${describeValue(value)}`;
  const kind = (value as { kind?: unknown }).kind;
  const lookAlike = kind === undefined ? '' : `; kind ${describeValue(kind)} is not accepted from a source: frames are validated and numbered by the chain`;
  return `an object without a TypedArray "data" field (${value.constructor?.name ?? 'Object'}${lookAlike})`;
}
