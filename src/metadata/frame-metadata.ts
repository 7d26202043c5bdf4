/**
 * Per-frame metadata (a frame's `metadata`, e.g. a camera timestamp) gathered, in level-0 frame order, into a small
 * companion array of the image group: `frame_metadata`, a 1-D uint8 array of JSON Lines (line i is frame i's
 * metadata, `null` where a frame had none). Why an array, not one attribute: an attribute list is rewritten whole
 * at every update, quadratic over an acquisition of hundreds of thousands of frames; here an update writes only the
 * chunks it touches (the last, partial, one and any it filled) and the array's small metadata (docs/format.md).
 *
 * Pure: the log plans the writes for a frame count and is told when they landed; the sink does the I/O.
 */
import { encodeJson, type ZarrVersion } from './zarr.js';

/** The companion array's path inside the image group. */
export const FRAME_METADATA_PATH = 'frame_metadata';
/** Bytes per chunk: small, as the last chunk is rewritten (whole, padded) at each update. */
export const FRAME_METADATA_CHUNK_BYTES = 64 * 1024;

/** The writes that bring the companion array to `frames` lines: chunks first, then its metadata. */
export interface FrameMetadataPlan {
  frames: number;
  totalBytes: number;
  /** Whole chunks (padded with zeros past the data), by chunk index. */
  chunks: Array<{ index: number; bytes: Uint8Array }>;
}

const encoder = new TextEncoder();
const NULL_LINE = encoder.encode('null\n');

export class FrameMetadataLog {
  /** Serialized metadata of frames not yet published, by frame index. */
  private readonly pending = new Map<number, string>();
  /** Lines published (frames covered); bytes published; the bytes of the last, partial chunk. */
  private frames = 0;
  private bytes = 0;
  private tail: Uint8Array;

  constructor(readonly chunkBytes = FRAME_METADATA_CHUNK_BYTES) {
    this.tail = new Uint8Array(0);
  }

  /** Whether any frame has brought metadata: until then there is no companion array. */
  get active(): boolean {
    return this.frames > 0 || this.pending.size > 0;
  }

  /** Frames the array shows once the last plan committed. */
  get published(): number {
    return this.frames;
  }

  /** Keeps frame `t`'s metadata (serialized now: the source may change its object afterwards). */
  add(t: number, metadata: unknown): void {
    if (t < this.frames) throw new RangeError(`frame ${t}: its metadata came after frames up to ${this.frames - 1} were published`);
    this.pending.set(t, JSON.stringify(metadata));
  }

  /** The writes that publish lines for frames [published, frames); undefined when there is nothing to write. */
  plan(frames: number): FrameMetadataPlan | undefined {
    if (!this.active || frames <= this.frames) return undefined;
    const lines: Uint8Array[] = [];
    let added = 0;
    for (let t = this.frames; t < frames; t++) {
      const json = this.pending.get(t);
      const line = json === undefined ? NULL_LINE : encoder.encode(json + '\n');
      lines.push(line);
      added += line.byteLength;
    }
    const { chunkBytes } = this;
    const totalBytes = this.bytes + added;
    const first = Math.floor(this.bytes / chunkBytes);
    const last = Math.ceil(totalBytes / chunkBytes);
    const chunks: FrameMetadataPlan['chunks'] = [];
    for (let index = first; index < last; index++) chunks.push({ index, bytes: new Uint8Array(chunkBytes) });
    // The partial chunk published before is written again, now with more lines after its old ones.
    chunks[0]!.bytes.set(this.tail);
    let at = this.bytes;
    for (const line of lines) {
      for (let done = 0; done < line.byteLength; ) {
        const chunk = chunks[Math.floor(at / chunkBytes) - first]!;
        const offset = at % chunkBytes;
        const take = Math.min(line.byteLength - done, chunkBytes - offset);
        chunk.bytes.set(line.subarray(done, done + take), offset);
        done += take;
        at += take;
      }
    }
    return { frames, totalBytes, chunks };
  }

  /** The plan's writes landed: its lines are published, and the metadata of its frames is dropped. */
  commit(plan: FrameMetadataPlan): void {
    for (let t = this.frames; t < plan.frames; t++) this.pending.delete(t);
    const lastChunk = plan.chunks[plan.chunks.length - 1]!;
    const tailLength = plan.totalBytes - lastChunk.index * this.chunkBytes;
    this.tail = tailLength === this.chunkBytes ? new Uint8Array(0) : lastChunk.bytes.slice(0, tailLength);
    this.frames = plan.frames;
    this.bytes = plan.totalBytes;
  }
}

/** The description kept in the companion array's own attributes. */
function describe(frames: number): Record<string, unknown> {
  return {
    zarr_stream: {
      frame_metadata: { format: 'JSON Lines (UTF-8): line i is level-0 frame i\'s metadata, null where the frame had none', frames },
    },
  };
}

/** The metadata documents of the companion array (key relative to the image group, and its JSON). */
export function frameMetadataDocuments(version: ZarrVersion, plan: FrameMetadataPlan, chunkBytes = FRAME_METADATA_CHUNK_BYTES): Array<[string, Uint8Array]> {
  if (version === 2) {
    const array = { zarr_format: 2, shape: [plan.totalBytes], chunks: [chunkBytes], dtype: '|u1', compressor: null, fill_value: 0, order: 'C', filters: null, dimension_separator: '/' };
    return [
      [`${FRAME_METADATA_PATH}/.zarray`, encodeJson(array)],
      [`${FRAME_METADATA_PATH}/.zattrs`, encodeJson(describe(plan.frames))],
    ];
  }
  const array = {
    zarr_format: 3,
    node_type: 'array',
    shape: [plan.totalBytes],
    data_type: 'uint8',
    chunk_grid: { name: 'regular', configuration: { chunk_shape: [chunkBytes] } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 0,
    codecs: [{ name: 'bytes' }],
    attributes: describe(plan.frames),
    dimension_names: ['byte'],
  };
  return [[`${FRAME_METADATA_PATH}/zarr.json`, encodeJson(array)]];
}

/** A companion array chunk's key relative to the image group. */
export function frameMetadataChunkKey(version: ZarrVersion, index: number): string {
  return version === 2 ? `${FRAME_METADATA_PATH}/${index}` : `${FRAME_METADATA_PATH}/c/${index}`;
}
