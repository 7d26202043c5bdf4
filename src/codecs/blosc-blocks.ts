/**
 * One Blosc1 chunk built from segments compressed separately, so a chunk can be compressed while its frames arrive
 * and never be held whole, raw or compressed.
 *
 * Why this is exact: a Blosc1 chunk is a 16-byte header, a table of block offsets (bstarts), then blocks that are
 * each compressed on their own. Compressing a chunk's bytes in segments that are whole multiples of the chunk's
 * blocksize, with that blocksize forced, yields the very blocks c-blosc makes from the whole chunk; the chunk is
 * their concatenation behind a header and a block table recomputed for the whole. Plans keep to chunks that are
 * whole numbers of blocks: a short last block is split differently when c-blosc sees it alone.
 *
 * Pure: no engine, no I/O. The plan is arithmetic on sizes; the assembler only reads headers and block tables.
 */
import { BLOSC_HEADER_BYTES, parseBloscHeader, type BloscHeader } from './blosc-header.js';

/** How one array's chunks are compressed in segments. */
export interface BlockPlan {
  /**
   * The blocksize c-blosc uses for a whole chunk with these settings (forced on every segment), or 0 when it is
   * read from the first segment (an engine that cannot be asked beforehand; segments are then whole multiples of
   * every blocksize it can choose).
   */
  blocksize: number;
  /** Tile slots (frames) per segment, and the segment's bytes. */
  segmentFrames: number;
  segmentBytes: number;
  chunkBytes: number;
}

export interface ChunkGeometry {
  chunkBytes: number;
  /** Bytes of one frame's slab of a chunk. */
  tileBytes: number;
  framesPerChunk: number;
}

/** Segments above this are not worth it: their buffers would approach the chunk sizes streaming exists to avoid. */
export const MAX_SEGMENT_BYTES = 8 * 2 ** 20;
/**
 * Segments are made at least this large where the chunk allows: each costs a message to a worker and back and a
 * write, and on the benchmark workloads 2 MiB segments ran 7% (W2) to 12% (W4) faster than 512 KiB ones, while
 * 4 MiB ones were slower again (more memory to fault in).
 */
export const MIN_SEGMENT_BYTES = 2 * 2 ** 20;

/**
 * The segment plan for chunks of `geometry` with c-blosc's `blocksize`, or undefined when the chunk cannot be cut
 * into at least two equal segments of whole blocks, each at most `maxSegmentBytes` (then compress whole chunks).
 */
export function planBlocks(
  geometry: ChunkGeometry,
  blocksize: number,
  maxSegmentBytes = MAX_SEGMENT_BYTES,
  minSegmentBytes = MIN_SEGMENT_BYTES,
  /** With blocksize 0 (read from the first segment): a multiple of every blocksize the engine may choose. */
  unit = blocksize,
): BlockPlan | undefined {
  const { chunkBytes, tileBytes, framesPerChunk } = geometry;
  if (!(unit > 0) || tileBytes <= 0 || chunkBytes !== tileBytes * framesPerChunk) return undefined;
  // The fewest tile slots whose bytes are a whole number of blocks, doubled towards minSegmentBytes while the
  // chunk still cuts into at least two segments.
  let segmentFrames = unit / gcd(tileBytes, unit);
  while (segmentFrames * tileBytes < minSegmentBytes && framesPerChunk % (2 * segmentFrames) === 0 && framesPerChunk / (2 * segmentFrames) >= 2) {
    segmentFrames *= 2;
  }
  const segmentBytes = segmentFrames * tileBytes;
  if (framesPerChunk % segmentFrames !== 0 || framesPerChunk / segmentFrames < 2 || segmentBytes > maxSegmentBytes) return undefined;
  return { blocksize, segmentFrames, segmentBytes, chunkBytes };
}

/** Bytes of the header and block table of a `chunkBytes` chunk of `blocksize` blocks. */
export function prefixBytesOf(chunkBytes: number, blocksize: number): number {
  return BLOSC_HEADER_BYTES + 4 * Math.ceil(chunkBytes / blocksize);
}

/**
 * Output room for one segment that guarantees c-blosc never falls back to storing it as a plain copy (a "memcpyed"
 * chunk has no blocks to reuse): the input, the header, and per block its table entry plus one size word per split
 * stream (at most 16).
 */
export function segmentRoom(segmentBytes: number, blocksize: number): number {
  // An unknown blocksize (0) is taken as c-blosc's smallest automatic one, 16 KiB, the case with the most blocks.
  return segmentBytes + BLOSC_HEADER_BYTES + Math.ceil(segmentBytes / (blocksize || 2 ** 14)) * 4 * 17;
}

/** Collects a chunk's compressed segments in order and makes the header and block table that go in front. */
export class BloscChunkAssembler {
  private starts = new Uint32Array(0);
  private first: BloscHeader | undefined;
  private blocksize: number;
  /** Blocks in the chunk, and the bytes of its header plus block table (written at byte 0 at the end). */
  private blockCount = 0;
  private prefix = 0;
  private blocks = 0;
  private rawBytes = 0;
  /** Compressed bytes of the blocks so far (after the prefix). */
  private blockBytes = 0;

  constructor(
    readonly plan: BlockPlan,
    /** Names the chunk in errors. */
    private readonly label: string,
  ) {
    this.blocksize = plan.blocksize;
    if (plan.blocksize > 0) this.layOut(plan.blocksize);
  }

  /** Bytes of the chunk's header and block table: known once the blocksize is (at once, or from the first segment). */
  get prefixBytes(): number {
    if (!this.prefix) throw new Error(`${this.label}: the blocksize is not known before the first segment`);
    return this.prefix;
  }

  private layOut(blocksize: number): void {
    this.blockCount = this.plan.chunkBytes / blocksize;
    this.prefix = prefixBytesOf(this.plan.chunkBytes, blocksize);
    this.starts = new Uint32Array(this.blockCount);
  }

  /** Takes the next segment's Blosc output and returns its blocks, to be stored right after the previous ones. */
  add(segment: Uint8Array): Uint8Array {
    const header = parseBloscHeader(segment);
    const where = `${this.label}, segment at raw byte ${this.rawBytes}`;
    if (header.memcpyed) throw new Error(`${where}: c-blosc stored the segment as a plain copy, which has no blocks to assemble`);
    if (!this.blocksize && header.blocksize > 0 && this.plan.segmentBytes % header.blocksize === 0) {
      this.blocksize = header.blocksize;
      this.layOut(header.blocksize);
    }
    if (header.blocksize !== this.blocksize) {
      throw new Error(`${where}: blocksize ${header.blocksize}, expected ${this.blocksize || `a divisor of the ${this.plan.segmentBytes}-byte segments`}`);
    }
    if (this.first) {
      const f = this.first;
      if (header.version !== f.version || header.versionlz !== f.versionlz || header.flags !== f.flags || header.typesize !== f.typesize) {
        throw new Error(`${where}: header (flags ${header.flags}, typesize ${header.typesize}) differs from the first segment's (flags ${f.flags}, typesize ${f.typesize})`);
      }
    } else {
      this.first = header;
    }
    const count = Math.ceil(header.nbytes / header.blocksize);
    if (this.blocks + count > this.blockCount || this.rawBytes + header.nbytes > this.plan.chunkBytes) {
      throw new Error(`${where}: ${header.nbytes} more raw bytes overrun the chunk's ${this.plan.chunkBytes}`);
    }
    if (header.cbytes > segment.byteLength) throw new Error(`${where}: header says ${header.cbytes} bytes, got ${segment.byteLength}`);
    const dataStart = BLOSC_HEADER_BYTES + 4 * count;
    const table = new DataView(segment.buffer, segment.byteOffset + BLOSC_HEADER_BYTES, 4 * count);
    // The segment's blocks move as one run: each start shifts by where the run lands in the chunk.
    const shift = this.prefix + this.blockBytes - dataStart;
    for (let i = 0; i < count; i++) this.starts[this.blocks + i] = table.getInt32(4 * i, true) + shift;
    this.blocks += count;
    this.rawBytes += header.nbytes;
    this.blockBytes += header.cbytes - dataStart;
    return segment.subarray(dataStart, header.cbytes);
  }

  /** Whether every raw byte of the chunk has been added. */
  get complete(): boolean {
    return this.rawBytes === this.plan.chunkBytes;
  }

  /** The chunk's header and block table, to be written at byte 0 once every segment has been added. */
  finish(): Uint8Array {
    const f = this.first;
    if (!f || !this.complete) throw new Error(`${this.label}: ${this.rawBytes} of ${this.plan.chunkBytes} raw bytes were compressed`);
    const prefix = new Uint8Array(this.prefix);
    const view = new DataView(prefix.buffer);
    view.setUint8(0, f.version);
    view.setUint8(1, f.versionlz);
    view.setUint8(2, f.flags);
    view.setUint8(3, f.typesize);
    view.setUint32(4, this.plan.chunkBytes, true);
    view.setUint32(8, this.blocksize, true);
    view.setUint32(12, this.prefix + this.blockBytes, true);
    for (let i = 0; i < this.blocks; i++) view.setUint32(BLOSC_HEADER_BYTES + 4 * i, this.starts[i]!, true);
    return prefix;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
