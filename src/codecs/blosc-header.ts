/**
 * Parser of the 16-byte Blosc1 chunk header (c-blosc README_CHUNK_FORMAT), for tests and diagnostics:
 * it lets us check what an engine really wrote (e.g. the typesize the shuffle used) without decompressing.
 */

export const BLOSC_HEADER_BYTES = 16;

/** Compressor format codes stored in flags bits 5..7. */
const FORMATS = ['blosclz', 'lz4', 'snappy', 'zlib', 'zstd'] as const;

export interface BloscHeader {
  /** Blosc format version (2 for c-blosc 1.x). */
  version: number;
  /** Version of the internal compressor's format. */
  versionlz: number;
  flags: number;
  /** Byte shuffle applied (flag 0x1). */
  shuffle: boolean;
  /** Data stored uncompressed, as a plain copy (flag 0x2). */
  memcpyed: boolean;
  /** Bit shuffle applied (flag 0x4). */
  bitshuffle: boolean;
  /** Blocks were not split into typesize streams (flag 0x10). */
  dontSplit: boolean;
  /** Internal compressor, from flags bits 5..7 ('lz4' covers lz4hc too). */
  compressor: string;
  typesize: number;
  /** Uncompressed size. */
  nbytes: number;
  blocksize: number;
  /** Compressed size, header included. */
  cbytes: number;
}

export function parseBloscHeader(buf: Uint8Array): BloscHeader {
  if (buf.byteLength < BLOSC_HEADER_BYTES) {
    throw new RangeError(`blosc buffer must hold at least ${BLOSC_HEADER_BYTES} header bytes, got ${buf.byteLength}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, BLOSC_HEADER_BYTES);
  const flags = view.getUint8(2);
  const format = flags >>> 5;
  return {
    version: view.getUint8(0),
    versionlz: view.getUint8(1),
    flags,
    shuffle: (flags & 0x1) !== 0,
    memcpyed: (flags & 0x2) !== 0,
    bitshuffle: (flags & 0x4) !== 0,
    dontSplit: (flags & 0x10) !== 0,
    compressor: FORMATS[format] ?? `unknown(${format})`,
    typesize: view.getUint8(3),
    nbytes: view.getUint32(4, true),
    blocksize: view.getUint32(8, true),
    cbytes: view.getUint32(12, true),
  };
}
