/**
 * Blosc chunks assembled from separately compressed segments (codecs/blosc-blocks): the plan's arithmetic, and the
 * assembled chunk compared byte for byte with c-blosc compressing the whole chunk at once, for every codec, shuffle
 * and typesize, on smooth, noisy, constant and incompressible data.
 */
import test from 'ava';
import { BloscChunkAssembler, planBlocks, prefixBytesOf, segmentRoom, type BlockPlan } from '../src/codecs/blosc-blocks.js';
import { loadNativeAddon, nativeBlocksize } from '../src/codecs/blosc-native.js';
import { BLOSC_CNAMES, BLOSC_SHUFFLES, shuffleCode, type BloscSettings } from '../src/codecs/blosc-settings.js';
import { parseBloscHeader } from '../src/codecs/blosc-header.js';
import { firstDifference } from './helpers/frames.js';

test('planBlocks: segments are the fewest tile slots that make whole blocks', (t) => {
  // 512 x 512 uint16 tiles (512 KiB) and 64 KiB blocks: one frame per segment at least.
  t.like(planBlocks({ chunkBytes: 64 * 2 ** 19, tileBytes: 2 ** 19, framesPerChunk: 64 }, 2 ** 16, undefined, 0), { segmentFrames: 1, segmentBytes: 2 ** 19 });
  t.is(prefixBytesOf(64 * 2 ** 19, 2 ** 16), 16 + 4 * 512);
  // A blocksize known only from the first segment: segments are whole multiples of the unit (1 MiB), then 2 MiB.
  t.like(planBlocks({ chunkBytes: 64 * 2 ** 19, tileBytes: 2 ** 19, framesPerChunk: 64 }, 0, undefined, undefined, 2 ** 20), { blocksize: 0, segmentFrames: 4 });
  t.is(planBlocks({ chunkBytes: 64 * 3000, tileBytes: 3000, framesPerChunk: 64 }, 0, undefined, undefined, 2 ** 20), undefined);
  // By default segments grow to 2 MiB where the chunk allows: 4 frames here.
  t.like(planBlocks({ chunkBytes: 64 * 2 ** 19, tileBytes: 2 ** 19, framesPerChunk: 64 }, 2 ** 16), { segmentFrames: 4, segmentBytes: 2 ** 21 });
  // ... by doubling, as far as the chunk divides and stays at least two segments: 6 frames give segments of 2.
  t.like(planBlocks({ chunkBytes: 6 * 2 ** 19, tileBytes: 2 ** 19, framesPerChunk: 6 }, 2 ** 16), { segmentFrames: 2 });
  t.like(planBlocks({ chunkBytes: 4 * 2 ** 19, tileBytes: 2 ** 19, framesPerChunk: 4 }, 2 ** 16), { segmentFrames: 2 });
  // 24 KiB tiles and 64 KiB blocks: 8 tiles (192 KiB = 3 blocks) per segment.
  t.like(planBlocks({ chunkBytes: 16 * 24576, tileBytes: 24576, framesPerChunk: 16 }, 2 ** 16), { segmentFrames: 8, segmentBytes: 196608 });
});

test('planBlocks: no plan where segments would not fit the chunk, be the whole chunk, or grow too large', (t) => {
  // 8 tiles per segment, but 12 frames per chunk.
  t.is(planBlocks({ chunkBytes: 12 * 24576, tileBytes: 24576, framesPerChunk: 12 }, 2 ** 16), undefined);
  // One segment would be the whole chunk: nothing to stream.
  t.is(planBlocks({ chunkBytes: 8 * 24576, tileBytes: 24576, framesPerChunk: 8 }, 2 ** 16), undefined);
  // An odd tile size needs 2^16 tiles per segment.
  t.is(planBlocks({ chunkBytes: 64 * 1001, tileBytes: 1001, framesPerChunk: 64 }, 2 ** 16), undefined);
  t.is(planBlocks({ chunkBytes: 64 * 2 ** 19, tileBytes: 2 ** 19, framesPerChunk: 64 }, 2 ** 16, 2 ** 18), undefined, 'segment above the cap');
  t.is(planBlocks({ chunkBytes: 100, tileBytes: 10, framesPerChunk: 9 }, 16), undefined, 'inconsistent geometry');
});

const addon = loadNativeAddon();
const native = addon ? test : test.skip;
if (!addon && process.env.CI) test('the native addon is built in CI', (t) => t.fail('blosc addon missing'));

/** c-blosc compressing `src` whole, with room enough never to fall back to a plain copy. */
function compressWhole(src: Uint8Array, s: BloscSettings, room: number): Uint8Array {
  const out = new Uint8Array(room);
  return out.slice(0, addon!.compress(src, out, s.clevel, shuffleCode(s.shuffle), s.typesize, s.cname, s.blocksize));
}

/** The chunk made the streamed way: segments compressed with the plan's request, assembled. */
function assemble(src: Uint8Array, s: BloscSettings, plan: BlockPlan, request: number): Uint8Array {
  const assembler = new BloscChunkAssembler(plan, 'test chunk');
  const parts: Uint8Array[] = [new Uint8Array(prefixBytesOf(plan.chunkBytes, plan.blocksize))];
  for (let at = 0; at < src.byteLength; at += plan.segmentBytes) {
    const segment = compressWhole(src.subarray(at, at + plan.segmentBytes), { ...s, blocksize: request }, segmentRoom(plan.segmentBytes, plan.blocksize));
    parts.push(assembler.add(segment).slice());
  }
  if (!assembler.complete) throw new Error('the assembler is not complete after every segment');
  const chunk = Buffer.concat(parts);
  chunk.set(assembler.finish(), 0);
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

const made = new Map<string, Uint8Array>();

/** Test data: 4 kinds, so both compressible and incompressible blocks (stored raw inside the chunk) occur. */
function data(kind: 'smooth' | 'noise' | 'zeros' | 'random', bytes: number): Uint8Array {
  const key = `${kind}/${bytes}`;
  if (!made.has(key)) made.set(key, generate(kind, bytes));
  return made.get(key)!;
}

function generate(kind: 'smooth' | 'noise' | 'zeros' | 'random', bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let h = 12345;
  for (let i = 0; i < bytes; i++) {
    h = (Math.imul(h, 1103515245) + 12345) >>> 0;
    if (kind === 'smooth') out[i] = ((i >> 9) + (i & 1 ? 0 : (i >> 3) & 7)) & 255;
    else if (kind === 'noise') out[i] = (i & 1 ? 0 : i >> 10) + ((h >>> 24) & 3);
    else if (kind === 'random') out[i] = h >>> 24;
  }
  return out;
}

native('assembled segments equal c-blosc compressing the whole chunk, every codec, shuffle and typesize', (t) => {
  let cases = 0;
  for (const cname of BLOSC_CNAMES) {
    for (const shuffle of BLOSC_SHUFFLES) {
      for (const typesize of [1, 2, 4, 8]) {
        for (const clevel of [1, 5]) {
          const s: BloscSettings = { cname, clevel, shuffle, typesize, blocksize: 0 };
          const tileBytes = 2 ** 17;
          const framesPerChunk = 16;
          const chunkBytes = tileBytes * framesPerChunk;
          const blocksize = nativeBlocksize(s, chunkBytes);
          if (!blocksize) {
            t.fail(`${cname}/${shuffle}/${typesize}/${clevel}: no request reproduces the chunk's blocksize`);
            continue;
          }
          const plan = planBlocks({ chunkBytes, tileBytes, framesPerChunk }, blocksize.blocksize);
          if (!plan) continue;
          for (const kind of ['smooth', 'noise', 'zeros', 'random'] as const) {
            const src = data(kind, chunkBytes);
            const room = chunkBytes + segmentRoom(chunkBytes, plan.blocksize);
            const whole = compressWhole(src, s, room);
            const streamed = assemble(src, s, plan, blocksize.request);
            const label = `${cname}/${shuffle}/typesize ${typesize}/clevel ${clevel}/${kind}`;
            t.false(parseBloscHeader(whole).memcpyed, `${label}: the reference is a real blocked chunk`);
            t.is(firstDifference(streamed, whole), -1, `${label}: first difference`);
            cases++;
          }
        }
      }
    }
  }
  t.true(cases >= 4 * 3 * 4 * 2 * 4 * 0.5, `only ${cases} cases had a plan`);
});

native('the automatic blocksize of a probe equals the whole chunk\'s, from small chunks to large', (t) => {
  for (const chunkBytes of [2 ** 16, 2 ** 20, 3 * 2 ** 20, 2 ** 25]) {
    for (const cname of BLOSC_CNAMES) {
      const s: BloscSettings = { cname, clevel: 9, shuffle: 'byte', typesize: 2, blocksize: 0 };
      const whole = compressWhole(new Uint8Array(chunkBytes), s, chunkBytes + 16);
      t.is(nativeBlocksize(s, chunkBytes)?.blocksize, parseBloscHeader(whole).blocksize, `${cname}, ${chunkBytes} bytes`);
    }
  }
});

native('the assembler refuses segments it cannot join, naming the chunk', (t) => {
  const s: BloscSettings = { cname: 'lz4', clevel: 1, shuffle: 'byte', typesize: 2, blocksize: 0 };
  const blocksize = nativeBlocksize(s, 2 ** 20)!;
  const plan = planBlocks({ chunkBytes: 2 ** 20, tileBytes: 2 ** 18, framesPerChunk: 4 }, blocksize.blocksize)!;
  const src = data('noise', 2 ** 18);
  const room = segmentRoom(plan.segmentBytes, plan.blocksize);
  const good = compressWhole(src, { ...s, blocksize: blocksize.request }, room);

  const copied = compressWhole(src, { ...s, clevel: 0, blocksize: blocksize.request }, room);
  t.throws(() => new BloscChunkAssembler(plan, 'chunk 0/0/0/0').add(copied), { message: /chunk 0\/0\/0\/0.*plain copy/ });

  const otherBlocks = compressWhole(src, { ...s, blocksize: blocksize.request * 2 }, room);
  t.throws(() => new BloscChunkAssembler(plan, 'c').add(otherBlocks), { message: /blocksize \d+, expected \d+/ });

  const otherFlags = compressWhole(src, { ...s, shuffle: 'none', blocksize: blocksize.request }, room);
  const mixed = new BloscChunkAssembler(plan, 'c');
  mixed.add(good);
  t.throws(() => mixed.add(otherFlags), { message: /differs from the first segment/ });

  const short = new BloscChunkAssembler(plan, 'chunk 1/0/0/0');
  short.add(good);
  t.throws(() => short.finish(), { message: /chunk 1\/0\/0\/0: 262144 of 1048576 raw bytes/ });

  // A plan whose blocksize comes from the first segment adopts it, then holds every segment to it.
  const open = new BloscChunkAssembler({ ...plan, blocksize: 0 }, 'chunk 2/0/0/0');
  t.throws(() => open.prefixBytes, { message: /chunk 2\/0\/0\/0: the blocksize is not known/ });
  open.add(good);
  t.is(open.prefixBytes, prefixBytesOf(plan.chunkBytes, plan.blocksize));
  t.throws(() => open.add(otherBlocks), { message: /blocksize \d+, expected \d+/ });

  const over = new BloscChunkAssembler(plan, 'c');
  for (let i = 0; i < 4; i++) over.add(good);
  t.throws(() => over.add(good), { message: /overrun/ });
  t.throws(() => new BloscChunkAssembler(plan, 'c').add(good.subarray(0, 100)), { message: /header says \d+ bytes, got 100/ });
});
