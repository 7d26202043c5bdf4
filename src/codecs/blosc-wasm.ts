/**
 * The WebAssembly engine: numcodecs.js' Blosc (c-blosc compiled with emscripten), the codec zarrita.js uses.
 *
 * Known exception: that build calls blosc_compress_ctx with typesize = sizeof(int) = 4 whatever the data, and
 * exposes no way to change it (its compress binding takes cname, clevel, shuffle and blocksize only). The chunks
 * are still valid Blosc - decoders take the stride from each chunk's header - but the shuffle works on 4-byte
 * groups: ideal for 4-byte types, less effective for 1-, 2- and 8-byte ones. `effectiveTypesize` reports 4 so the
 * v3 metadata states the stride actually used.
 */
import Blosc from 'numcodecs/blosc';
import { shuffleCode, type BloscSettings } from './blosc-settings.js';
import type { BloscEngine } from './engine.js';

export const WASM_TYPESIZE = 4;

type Codec = ReturnType<typeof Blosc.fromConfig>;

function codecKey(s: BloscSettings): string {
  return `${s.cname}/${s.clevel}/${s.shuffle}/${s.blocksize}`;
}

export async function createWasmEngine(): Promise<BloscEngine> {
  const codecs = new Map<string, Codec>();
  const codecFor = (s: BloscSettings): Codec => {
    const key = codecKey(s);
    let codec = codecs.get(key);
    if (!codec) {
      codec = Blosc.fromConfig({ id: 'blosc', cname: s.cname, clevel: s.clevel, shuffle: shuffleCode(s.shuffle), blocksize: s.blocksize });
      codecs.set(key, codec);
    }
    return codec;
  };
  // Instantiate the wasm module now, so the first real chunk does not pay for it and a broken build fails early.
  await codecFor({ cname: 'lz4', clevel: 1, shuffle: 'none', blocksize: 0, typesize: 1 }).encode(new Uint8Array(16));
  return {
    name: 'wasm',
    async compress(src, s, dest) {
      const encoded = await codecFor(s).encode(src);
      if (!dest) return encoded;
      if (dest.byteLength < encoded.byteLength) {
        throw new RangeError(`dest must hold ${encoded.byteLength} bytes, got ${dest.byteLength}`);
      }
      dest.set(encoded);
      return dest.subarray(0, encoded.byteLength);
    },
    effectiveTypesize: () => WASM_TYPESIZE,
  };
}
