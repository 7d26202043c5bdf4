/**
 * Pure JSON builders for the compression part of Zarr array metadata.
 * v2: the `compressor` object numcodecs reads. v3: the `codecs` chain, per the v3 core spec's
 * `bytes` codec and `blosc` codec (https://zarr-specs.readthedocs.io/en/latest/v3/codecs/blosc/).
 */
import { shuffleCode, type BloscSettings, type BloscShuffle } from '../codecs/blosc-settings.js';

export interface V2BloscCompressor {
  id: 'blosc';
  cname: string;
  clevel: number;
  shuffle: 0 | 1 | 2;
  blocksize: number;
}

export interface V3Codec {
  name: string;
  configuration: Record<string, unknown>;
}

const V3_SHUFFLE: Record<BloscShuffle, 'noshuffle' | 'shuffle' | 'bitshuffle'> = {
  none: 'noshuffle',
  byte: 'shuffle',
  bit: 'bitshuffle',
};

/** The v2 `.zarray` `compressor` field; null means chunks are stored raw. */
export function v2Compressor(s?: BloscSettings): V2BloscCompressor | null {
  if (!s) return null;
  return { id: 'blosc', cname: s.cname, clevel: s.clevel, shuffle: shuffleCode(s.shuffle), blocksize: s.blocksize };
}

/**
 * The v3 `codecs` chain. The `bytes` codec always says little endian: the spec requires `endian` for multi-byte
 * types and allows it ("if present") for single-byte ones, and every dtype we write is little endian.
 *
 * `typesize` must be the stride the engine really shuffled over (the spec defines it that way), so callers pass
 * settings whose typesize is `engine.effectiveTypesize(s)`: the dtype size with the native engine, but 4 with the
 * wasm engine, whose build hard-codes it. Decoders read the stride from each chunk's header either way.
 */
export function v3Codecs(s?: BloscSettings): V3Codec[] {
  const chain: V3Codec[] = [{ name: 'bytes', configuration: { endian: 'little' } }];
  if (s) {
    chain.push({
      name: 'blosc',
      configuration: {
        cname: s.cname,
        clevel: s.clevel,
        shuffle: V3_SHUFFLE[s.shuffle],
        typesize: s.typesize,
        blocksize: s.blocksize,
      },
    });
  }
  return chain;
}
