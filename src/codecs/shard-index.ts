/**
 * The index of a `sharding_indexed` shard, as its index codecs (`bytes` little endian, then `crc32c`) encode it:
 * per chunk slot, C order, a little-endian uint64 pair (offset, nbytes) of the chunk within the shard, or 2^64-1 for
 * both when the slot holds no chunk; then the CRC-32C of those bytes, little endian. Pure, no I/O.
 */
import { crc32c } from '@aws-crypto/crc32c';

/** Marks an absent chunk: both offset and nbytes (the spec's 2^64-1). */
export const ABSENT = 0xffff_ffff_ffff_ffffn;

/** Bytes of the encoded index of `slots` chunk slots: 16 per slot and the 4-byte checksum. */
export function shardIndexBytes(slots: number): number {
  return 16 * slots + 4;
}

/** CRC-32C (Castagnoli) of `bytes`, as the `crc32c` codec computes it. */
export function crc32cOf(bytes: Uint8Array): number {
  return crc32c(bytes);
}

/**
 * Encodes the index of a shard whose slot i holds a chunk of `nbytes[i]` bytes at `offsets[i]`, or none where
 * nbytes[i] is negative.
 */
export function encodeShardIndex(offsets: readonly number[], nbytes: readonly number[]): Uint8Array {
  const slots = offsets.length;
  const out = new Uint8Array(shardIndexBytes(slots));
  const view = new DataView(out.buffer);
  for (let slot = 0; slot < slots; slot++) {
    const absent = nbytes[slot]! < 0;
    view.setBigUint64(16 * slot, absent ? ABSENT : BigInt(offsets[slot]!), true);
    view.setBigUint64(16 * slot + 8, absent ? ABSENT : BigInt(nbytes[slot]!), true);
  }
  view.setUint32(16 * slots, crc32cOf(out.subarray(0, 16 * slots)), true);
  return out;
}
