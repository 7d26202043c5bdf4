/**
 * Chunks of stored (uncompressed) blocks, made for segments c-blosc returned as plain copies: numcodecs' own
 * c-blosc decoder must read back exactly what went in, for split and unsplit codecs, shuffled or not.
 */
import test from 'ava';
import Blosc from 'numcodecs/blosc';
import { parseBloscHeader } from '../src/codecs/blosc-header.js';
import { storedBlocks, storedBlocksBytes, type BlockTemplate } from '../src/codecs/blosc-stored-blocks.js';
import { firstDifference, randomBytes } from './helpers/frames.js';

for (const [cname, shuffle] of [['lz4', 1], ['lz4', 0], ['zstd', 1], ['blosclz', 1], ['zlib', 0]] as const) {
  test(`${cname}, shuffle ${shuffle}: numcodecs decodes stored blocks to the input`, async (t) => {
    const codec = Blosc.fromConfig({ id: 'blosc', cname, clevel: 5, shuffle, blocksize: 0 });
    const bytes = 2 ** 21;
    // A compressible segment's header is the template (a plain copy has no block layout to copy).
    const header = parseBloscHeader(await codec.encode(new Uint8Array(bytes)));
    t.false(header.memcpyed);
    const template: BlockTemplate = header;
    const src = randomBytes(bytes);
    t.true(parseBloscHeader(await codec.encode(src)).memcpyed, 'numcodecs stores random bytes as a plain copy');
    const out = new Uint8Array(storedBlocksBytes(bytes, template) + 3);
    const chunk = storedBlocks(src, template, out);
    const written = parseBloscHeader(chunk);
    t.like(written, { memcpyed: false, flags: header.flags, typesize: header.typesize, blocksize: header.blocksize, nbytes: bytes, cbytes: chunk.byteLength });
    const back = new Uint8Array(await codec.decode(chunk));
    t.is(firstDifference(back, src), -1);
  });
}

test('stored blocks refuse bit-shuffle templates, partial blocks and short output', (t) => {
  const template: BlockTemplate = { version: 2, versionlz: 1, flags: 0x21, typesize: 4, blocksize: 65536 };
  t.throws(() => storedBlocks(new Uint8Array(65536), { ...template, flags: 0x25 }, new Uint8Array(1 << 17)), { message: /flags 37/ });
  t.throws(() => storedBlocks(new Uint8Array(65537), template, new Uint8Array(1 << 17)), { message: /65537 bytes, blocksize 65536/ });
  t.throws(() => storedBlocks(new Uint8Array(65536), template, new Uint8Array(65536)), { message: /need \d+ bytes of output, got 65536/ });
});
