/**
 * The typed messages that flow between zarr-stream's transforms, in pipeline order:
 * user frames -> FrameMessage -> TileMessage -> ChunkMessage | ChunkPartMessage -> sink.
 * Every message carries the pyramid level it belongs to, so one linear pipeline carries all levels.
 */
import type { DType, PixelArray } from './dtype.js';
import type { ArrayLayout } from './chunking/layout.js';

/**
 * What a user's source may push: a described frame, or a bare TypedArray/Buffer whose shape the options declare.
 * With frameOwnership 'copy' (the default) the chain copies the pixels as the frame enters, and the source may
 * refill its buffer once the frame's write callback has run. With 'transfer' the chain reads the buffer until the
 * frame is stored (tiles go to disk straight from it), so the source must never touch it again.
 */
export interface Frame {
  data: PixelArray | Uint8Array;
  width: number;
  height: number;
  /** Defaults to 1. Data is planar: plane-major, then rows, then columns (C order of (c, y, x)). */
  planes?: number;
  dtype: DType;
  /**
   * The frame's own metadata (a JSON object, e.g. a camera timestamp): gathered in frame order into the image's
   * `frame_metadata` array (docs/format.md). Serialized when the frame enters: later changes to the object are not seen.
   */
  metadata?: Record<string, unknown>;
}

export type FrameInput = Frame | PixelArray | Uint8Array;

/** A validated frame of one level: `bytes` holds planes*height*width pixels, C order (c, y, x), little endian. */
export interface FrameMessage {
  kind: 'frame';
  level: number;
  /** Frame index within its level, from 0. */
  t: number;
  width: number;
  height: number;
  planes: number;
  dtype: DType;
  bytes: Uint8Array;
  /** The source frame's `metadata` (validated JSON object); absent when it had none. */
  metadata?: Record<string, unknown>;
  /**
   * Set when `bytes` is a pooled copy (frameOwnership 'copy'): hands it back to its pool. Whoever receives the
   * message calls it once, when it no longer reads `bytes`; a stage that passes the frame on to several holders
   * (its tiles) shares it among them (util/shared-release.ts).
   */
  release?: () => void;
}

/**
 * One tile of one frame, described, not copied: the consumer copies `region` out of `frame.bytes`
 * into its own (reused) buffer, padded to the full tile shape with the fill value.
 */
export interface TileMessage {
  kind: 'tile';
  level: number;
  t: number;
  /** Tile grid position (c, y, x) = the chunk's last three coordinates. */
  tile: readonly [number, number, number];
  /** The valid part of the tile inside the frame: start and extent along c, y, x. */
  region: TileRegion;
  frame: FrameMessage;
  /** This tile's share of `frame.release`: call once `frame.bytes` is no longer read for this tile. */
  release?: () => void;
}

export interface TileRegion {
  c0: number;
  y0: number;
  x0: number;
  planes: number;
  rows: number;
  cols: number;
}

/** A whole chunk (t, c, y, x chunk coordinates), raw or encoded. */
export interface ChunkMessage {
  kind: 'chunk';
  level: number;
  coords: readonly number[];
  /** How many of the chunk's frame slots hold real frames (the rest is fill). */
  frames: number;
  data: Uint8Array;
  /** True once a codec has encoded `data`. */
  encoded: boolean;
  /**
   * Hands `data`'s memory back to its pool; call once the bytes are no longer needed. A stage that moved the bytes
   * to another thread and back (which detaches `data`) passes the view it got back.
   */
  release?: (returned?: Uint8Array) => void;
}

/**
 * A contiguous slab of a chunk's stored bytes. Raw chunks are C ordered, so one frame's tile is one slab and a chunk
 * can be streamed to its store as an append-only sequence of parts, never held whole in memory. A Blosc chunk
 * compressed as it fills streams the same way, as runs of its blocks (`encoded`).
 */
export interface ChunkPartMessage {
  kind: 'chunk-part';
  level: number;
  coords: readonly number[];
  /** Byte offset of `data` within the chunk; parts of one chunk arrive in increasing, contiguous order. */
  offset: number;
  /**
   * The slab's bytes: one array, or its pieces in order. Pieces let an unpadded tile go to the store as views of the
   * frame's rows (a gathered write), so the only copy of its pixels is the one into storage.
   */
  data: Bytes;
  /**
   * Set on the chunk's last part. Raw chunks: `totalBytes` is the chunk's full byte length, and the store pads the
   * rest with zeros. Encoded chunks: `head` replaces the value's first bytes (a Blosc header and block table, known
   * only once every block is compressed; the first part reserved its room). A shard (ShardAssembler) is one part
   * whose `coords` are the shard's, `frames` those it covers from its first frame, and `chunks` the chunks it holds.
   */
  complete?: { totalBytes?: number; frames: number; head?: Uint8Array; chunks?: number };
  /** True when the parts are a codec's output (the blocks of a Blosc chunk compressed as it filled). */
  encoded?: boolean;
  /**
   * Instead of bytes (`data` is then empty): the tile's region of its frame, for a consumer that copies tiles into
   * buffers of its own (a compressor filling segments), so no views of the frame's rows are made. The part stands
   * for the full tile (`tileBytes`, padding included). Stores never see such parts.
   */
  region?: { frame: Uint8Array; layout: ArrayLayout; region: TileRegion };
  /** Hands back what `data` (or `region`) reads: a pooled tile buffer, or the tile's share of a pooled frame copy. */
  release?: () => void;
}

export type SinkMessage = ChunkMessage | ChunkPartMessage;

/** Bytes as one array or as pieces to be taken in order. */
export type Bytes = Uint8Array | readonly Uint8Array[];

export function byteLengthOf(data: Bytes): number {
  if (data instanceof Uint8Array) return data.byteLength;
  let total = 0;
  for (const piece of data) total += piece.byteLength;
  return total;
}
