/**
 * A Blosc1 chunk whose blocks hold their bytes uncompressed, for a segment that c-blosc returned as a plain copy.
 *
 * Why: numcodecs' WebAssembly build gives c-blosc no more output room than the input plus its header, so an
 * incompressible segment comes back "memcpyed", a form with no blocks, which cannot be joined with other segments
 * into one chunk. c-blosc itself stores an incompressible stream as is inside its block when it has room (the
 * stream's size word then equals its raw length), so the same chunk can be written here: the header flags of a real
 * compressed segment with these settings (`template`), each block byte-shuffled as c-blosc would, split into
 * `typesize` streams when the flags say so, every stream stored raw. Any Blosc decoder reads it.
 *
 * Pure: bytes in, bytes out.
 */
import { BLOSC_HEADER_BYTES } from './blosc-header.js';

/** What a compressed segment's header says that this chunk must say too. */
export interface BlockTemplate {
  version: number;
  versionlz: number;
  flags: number;
  typesize: number;
  blocksize: number;
}

const SHUFFLE = 0x1;
const MEMCPYED = 0x2;
const BITSHUFFLE = 0x4;
const DONT_SPLIT = 0x10;

/** Bytes storedBlocks() writes for `bytes` of input. */
export function storedBlocksBytes(bytes: number, template: BlockTemplate): number {
  const blocks = Math.ceil(bytes / template.blocksize);
  const streams = template.flags & DONT_SPLIT ? 1 : template.typesize;
  return BLOSC_HEADER_BYTES + 4 * blocks + 4 * blocks * streams + bytes;
}

/** Writes `src` as a Blosc1 chunk of stored blocks into `out`; returns the chunk (a view of `out`). */
export function storedBlocks(src: Uint8Array, template: BlockTemplate, out: Uint8Array): Uint8Array {
  const { blocksize, typesize, flags } = template;
  if (flags & (BITSHUFFLE | MEMCPYED)) throw new Error(`stored blocks need a template of a byte-shuffled or unshuffled blocked chunk (flags ${flags})`);
  if (src.byteLength % blocksize !== 0 || blocksize % typesize !== 0) {
    throw new RangeError(`stored blocks need whole blocks of whole elements: ${src.byteLength} bytes, blocksize ${blocksize}, typesize ${typesize}`);
  }
  const total = storedBlocksBytes(src.byteLength, template);
  if (out.byteLength < total) throw new RangeError(`stored blocks need ${total} bytes of output, got ${out.byteLength}`);
  const blocks = src.byteLength / blocksize;
  const streams = flags & DONT_SPLIT ? 1 : typesize;
  const streamBytes = blocksize / streams;
  const shuffled = flags & SHUFFLE && typesize > 1;
  const view = new DataView(out.buffer, out.byteOffset, total);
  view.setUint8(0, template.version);
  view.setUint8(1, template.versionlz);
  view.setUint8(2, flags);
  view.setUint8(3, typesize);
  view.setUint32(4, src.byteLength, true);
  view.setUint32(8, blocksize, true);
  view.setUint32(12, total, true);
  const elements = blocksize / typesize;
  let at = BLOSC_HEADER_BYTES + 4 * blocks;
  for (let b = 0; b < blocks; b++) {
    view.setUint32(BLOSC_HEADER_BYTES + 4 * b, at, true);
    const block = src.subarray(b * blocksize, (b + 1) * blocksize);
    // Each stream is its size word, then its bytes; unsplit, the one stream is the whole (shuffled) block.
    const firstStream = at + 4;
    for (let s = 0; s < streams; s++) view.setUint32(at + s * (4 + streamBytes), streamBytes, true);
    if (!shuffled) {
      for (let s = 0; s < streams; s++) out.set(block.subarray(s * streamBytes, (s + 1) * streamBytes), firstStream + s * (4 + streamBytes));
    } else {
      // Byte shuffle: byte j of every element, then byte j + 1. Split, byte j of the elements is stream j.
      for (let j = 0; j < typesize; j++) {
        const base = streams > 1 ? firstStream + j * (4 + streamBytes) : firstStream + j * elements;
        for (let i = 0, from = j; i < elements; i++, from += typesize) out[base + i] = block[from]!;
      }
    }
    at += streams * (4 + streamBytes);
  }
  return out.subarray(0, total);
}
