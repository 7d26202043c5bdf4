/**
 * Compressed datasets end to end: every device and every dtype, on each Blosc engine available, read back pixel for
 * pixel by zarrita.js (v2, v3) and zarr-python (v2, its own c-blosc through numcodecs); chunk headers checked.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sinkOf, zarrTransforms } from '../src/zarr-transforms.js';
import { OptionError, type ZarrStreamOptions } from '../src/options.js';
import { DEVICE_NAMES, DEVICES } from '../src/devices.js';
import { DTYPES, bytesPerPixel, type DType } from '../src/dtype.js';
import { parseBloscHeader } from '../src/codecs/blosc-header.js';
import { nativeEngineAvailable, type EngineName } from '../src/codecs/engine.js';
import { firstDifference, makeFrames, source, tempDir } from './helpers/frames.js';
import { readWithPython, readWithZarrita, requirePythonZarr } from './helpers/readers.js';

const ENGINES: EngineName[] = nativeEngineAvailable() ? ['native', 'wasm'] : ['wasm'];

test('the native engine is built wherever libblosc-dev is installed', (t) => {
  if (!existsSync('/usr/include/blosc.h')) {
    if (process.env.CI) t.fail('CI must install libblosc-dev so the native engine is tested');
    t.log('SKIPPED: libblosc-dev is not installed here, only the WebAssembly engine is tested');
    return t.pass();
  }
  t.true(ENGINES.includes('native'), 'blosc.h is present but the addon did not build: run `node scripts/build-native.mjs`');
});

const SHAPE = { frames: 5, width: 37, height: 23, planes: 2 };

async function write(options: Partial<ZarrStreamOptions> & { dtype: DType }, frames = makeFrames(SHAPE.frames, SHAPE.width, SHAPE.height, SHAPE.planes, options.dtype)) {
  const dir = await tempDir();
  const store = path.join(dir, 'c.zarr');
  const chain = zarrTransforms({
    store,
    width: SHAPE.width,
    height: SHAPE.height,
    planes: SHAPE.planes,
    chunking: { tileWidth: 16, tileHeight: 16, tilePlanes: 1, framesPerChunk: 2 },
    workers: 2,
    ...options,
  });
  await pipeline(source(frames.frames), ...chain);
  return { store, expected: frames.bytes, sink: sinkOf(chain), compressor: chain[3] };
}

async function chunkHeader(store: string, zarrVersion: 2 | 3) {
  const key = zarrVersion === 2 ? path.join(store, '0', '0', '0', '0', '0') : path.join(store, '0', 'c', '0', '0', '0', '0');
  return parseBloscHeader(new Uint8Array(await readFile(key)));
}

for (const engine of ENGINES) {
  for (const device of DEVICE_NAMES) {
    const { zarrVersion, codec } = DEVICES[device];
    test(`${engine}: device ${device}, every dtype, read back by zarrita.js${zarrVersion === 2 ? ' and zarr-python' : ''}`, async (t) => {
      const python = zarrVersion === 2 && (await requirePythonZarr(t.log));
      for (const dtype of DTYPES) {
        const { store, expected, compressor } = await write({ device, engine, dtype });
        t.is(compressor.engineName, codec ? engine : undefined);
        const back = await readWithZarrita(store);
        t.is(firstDifference(back.bytes, expected), -1, `${device} ${dtype} zarrita`);
        if (python) t.is(firstDifference((await readWithPython(store)).bytes, expected), -1, `${device} ${dtype} python`);
        if (!codec) continue;
        const header = await chunkHeader(store, zarrVersion);
        t.is(header.compressor, codec, `${dtype} header compressor`);
        t.true(header.shuffle, `${dtype} header says byte shuffle`);
        t.false(header.bitshuffle);
        // The native engine shuffles by element; numcodecs' WebAssembly build always uses 4 (docs/compression.md).
        t.is(header.typesize, engine === 'native' ? bytesPerPixel(dtype) : 4, `${dtype} header typesize`);
        t.is(header.nbytes, 2 * 16 * 16 * bytesPerPixel(dtype));
      }
    });
  }

  test(`${engine}: metadata says exactly what the chunks hold, v2 and v3`, async (t) => {
    const v2 = await write({ zarrVersion: 2, engine, dtype: 'uint16', compression: { codec: 'zstd', clevel: 3, shuffle: 'bit', blocksize: 256 } });
    const zarray = JSON.parse(await readFile(path.join(v2.store, '0', '.zarray'), 'utf8'));
    t.deepEqual(zarray.compressor, { id: 'blosc', cname: 'zstd', clevel: 3, shuffle: 2, blocksize: 256 });
    const v2Header = await chunkHeader(v2.store, 2);
    t.true(v2Header.bitshuffle);
    t.is(v2Header.blocksize, 256);
    const v3 = await write({ zarrVersion: 3, engine, dtype: 'int32', compression: { codec: 'lz4', shuffle: 'none' } });
    const array = JSON.parse(await readFile(path.join(v3.store, '0', 'zarr.json'), 'utf8'));
    t.deepEqual(array.codecs, [
      { name: 'bytes', configuration: { endian: 'little' } },
      { name: 'blosc', configuration: { cname: 'lz4', clevel: 1, shuffle: 'noshuffle', typesize: 4, blocksize: 0 } },
    ]);
    t.false((await chunkHeader(v3.store, 3)).shuffle);
    t.is(firstDifference((await readWithZarrita(v3.store)).bytes, v3.expected), -1);
  });

  test(`${engine}: incompressible frames and clevel 0 still make valid chunks`, async (t) => {
    const noise = makeFrames(SHAPE.frames, SHAPE.width, SHAPE.height, SHAPE.planes, 'uint32');
    let seed = 7;
    for (let i = 0; i < noise.bytes.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      noise.bytes[i] = seed >>> 24;
    }
    // Frames must match the noise written into `bytes`: view them over it.
    const frameBytes = SHAPE.width * SHAPE.height * SHAPE.planes * 4;
    noise.frames = noise.frames.map((frame, index) => ({ ...frame, data: new Uint32Array(noise.bytes.buffer.slice(index * frameBytes, (index + 1) * frameBytes)) }));
    for (const clevel of [0, 9]) {
      const { store, expected } = await write({ zarrVersion: 2, engine, dtype: 'uint32', compression: { codec: 'zstd', clevel } }, noise);
      const python = await requirePythonZarr(t.log);
      t.is(firstDifference((await readWithZarrita(store)).bytes, expected), -1, `clevel ${clevel} zarrita`);
      if (python) t.is(firstDifference((await readWithPython(store)).bytes, expected), -1, `clevel ${clevel} python`);
    }
  });

  test(`${engine}: a compressed pyramid round-trips`, async (t) => {
    const { store } = await write({ zarrVersion: 3, engine, dtype: 'uint16', multiscale: true, device: 'ZarrV3Blosc1Lz4ByteShuffle' });
    t.deepEqual((await readWithZarrita(store, '1')).shape, [3, 2, 12, 19]);
  });
}

test('stored bytes are the compressed size: lz4 compresses the standard frames', async (t) => {
  const { sink, expected } = await write({ zarrVersion: 3, dtype: 'uint16', compression: { codec: 'lz4' } });
  t.true(sink.progress.bytes < expected.byteLength, `${sink.progress.bytes} stored for ${expected.byteLength} raw`);
});

const BAD: Array<[Partial<ZarrStreamOptions>, string, RegExp]> = [
  [{ device: 'ZarrV4' as never }, 'device', /device must be one of Zarr, ZarrBlosc1ZstdByteShuffle, .*got "ZarrV4"/],
  [{ device: 'ZarrV3', zarrVersion: 2 }, 'zarrVersion', /zarrVersion must be 3 with device "ZarrV3"/],
  [{ compression: { codec: 'snappy' as never } }, 'compression.codec', /compression.codec must be one of lz4, zstd, blosclz, zlib, got "snappy"/],
  [{ compression: { clevel: 3 } }, 'compression.codec', /compression.codec must be one of .*got undefined/],
  [{ compression: { codec: 'lz4', clevel: 10 } }, 'compression.clevel', /compression.clevel must be an integer 0..9, got 10/],
  [{ compression: { codec: 'lz4', shuffle: 'word' as never } }, 'compression.shuffle', /compression.shuffle must be one of none, byte, bit, got "word"/],
  [{ compression: { codec: 'lz4', blocksize: -1 } }, 'compression.blocksize', /compression.blocksize must be a non-negative integer/],
  [{ compression: 'gzip' as never }, 'compression', /compression must be 'none' or/],
  [{ compression: { codec: 'lz4' }, workers: 0 }, 'workers', /workers must be an integer >= 1, got 0/],
  [{ compression: { codec: 'lz4' }, engine: 'gpu' as never }, 'engine', /engine must be one of auto, native, wasm, got "gpu"/],
];

for (const [patch, field, message] of BAD) {
  test(`bad compression option ${field}=${JSON.stringify(Object.values(patch)[0])} is refused by name`, (t) => {
    const error = t.throws(() => zarrTransforms({ store: 'never.zarr', dtype: 'uint8', width: 8, height: 8, ...patch }), { instanceOf: OptionError, message });
    t.is(error!.field, field);
    t.false(existsSync('never.zarr'));
  });
}

test('a device can be refined by explicit options', async (t) => {
  const { store } = await write({ device: 'ZarrBlosc1Lz4ByteShuffle', compression: { clevel: 7 }, dtype: 'uint8' });
  const zarray = JSON.parse(await readFile(path.join(store, '0', '.zarray'), 'utf8'));
  t.deepEqual(zarray.compressor, { id: 'blosc', cname: 'lz4', clevel: 7, shuffle: 1, blocksize: 0 });
});
