/**
 * Blosc engines, compression pool, header parser, codec metadata and option validation.
 * Every engine's output is decoded by two independent readers - numcodecs.js (what zarrita uses) and Python
 * numcodecs (what zarr-python uses) - because "decodes with our own code" would prove nothing.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Blosc from 'numcodecs/blosc';
import { DTYPES, bytesPerPixel, type DType } from '../src/dtype.js';
import { parseBloscHeader } from '../src/codecs/blosc-header.js';
import { BLOSC_CNAMES, BLOSC_SHUFFLES, validateBloscOptions, type BloscSettings } from '../src/codecs/blosc-settings.js';
import { CompressPool } from '../src/codecs/compress-pool.js';
import { activeEngineName, loadEngine, nativeEngineAvailable, resolveEngineName, type BloscEngine, type EngineName } from '../src/codecs/engine.js';
import { WASM_TYPESIZE } from '../src/codecs/blosc-wasm.js';
import { v2Compressor, v3Codecs } from '../src/metadata/codecs.js';
import { randomBytes } from './helpers/frames.js';

const PYTHON = '/usr/bin/python3';
const HAVE_LIBBLOSC = existsSync('/usr/include/blosc.h');

const engineNames: EngineName[] = nativeEngineAvailable() ? ['native', 'wasm'] : ['wasm'];
if (!engineNames.includes('native')) {
  console.log('blosc.test: SKIPPING the native engine: the addon is not built (run `node scripts/build-native.mjs`)');
}

const engines = new Map<EngineName, Promise<BloscEngine>>(engineNames.map((n) => [n, loadEngine(n)]));

function settings(partial: Partial<BloscSettings> = {}): BloscSettings {
  return { cname: 'lz4', clevel: 5, shuffle: 'byte', blocksize: 0, typesize: 1, ...partial };
}

/** Deterministic, mildly compressible pixels of any dtype, as little-endian bytes. */
function pixels(dtype: DType, count: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(count * bytesPerPixel(dtype));
  const view = new DataView(bytes.buffer);
  let h = seed >>> 0;
  for (let i = 0; i < count; i++) {
    h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    const v = 100 + ((i * 7) % 1000) + (h & 15);
    const at = i * bytesPerPixel(dtype);
    switch (dtype) {
      case 'uint8': view.setUint8(at, v & 0xff); break;
      case 'int8': view.setInt8(at, ((v & 0xff) - 128)); break;
      case 'uint16': view.setUint16(at, v, true); break;
      case 'int16': view.setInt16(at, v - 600, true); break;
      case 'uint32': view.setUint32(at, v * 1000, true); break;
      case 'int32': view.setInt32(at, -v * 1000, true); break;
      case 'float32': view.setFloat32(at, v / 7, true); break;
      case 'float64': view.setFloat64(at, v / 7, true); break;
      case 'uint64': view.setBigUint64(at, BigInt(v) << 33n, true); break;
      case 'int64': view.setBigInt64(at, -(BigInt(v) << 33n), true); break;
    }
  }
  return bytes;
}

/** Decodes every buffer with Python numcodecs in one interpreter run, returning the decoded bytes. */
function pythonDecode(encoded: Uint8Array[]): Uint8Array[] {
  const dir = mkdtempSync(join(tmpdir(), 'zarr-stream-blosc-'));
  try {
    encoded.forEach((buf, i) => writeFileSync(join(dir, `${i}.blosc`), buf));
    const script = [
      'import sys, os',
      'from numcodecs import Blosc',
      'd, n = sys.argv[1], int(sys.argv[2])',
      'for i in range(n):',
      '    data = open(os.path.join(d, f"{i}.blosc"), "rb").read()',
      '    open(os.path.join(d, f"{i}.raw"), "wb").write(bytes(Blosc().decode(data)))',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script, dir, String(encoded.length)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`python numcodecs decode failed: ${run.stderr}`);
    return encoded.map((_, i) => new Uint8Array(readFileSync(join(dir, `${i}.raw`))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ava's deepEqual walks typed arrays element by element (seconds for MBs); Buffer.equals is a memcmp. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

async function jsDecode(buf: Uint8Array): Promise<Uint8Array> {
  return Blosc.fromConfig({ id: 'blosc' }).decode(buf);
}

test('the native engine is available wherever libblosc is installed', (t) => {
  if (!HAVE_LIBBLOSC) {
    t.log('libblosc-dev not installed: native engine not expected');
    t.pass();
    return;
  }
  t.true(nativeEngineAvailable(), 'libblosc is installed but the native addon did not load: run `node scripts/build-native.mjs`');
  t.is(resolveEngineName('auto'), 'native');
});

for (const name of engineNames) {
  test(`${name}: every dtype round-trips, decoded by numcodecs.js and by Python numcodecs`, async (t) => {
    const engine = await engines.get(name)!;
    const raws: Uint8Array[] = [];
    const encoded: Uint8Array[] = [];
    for (const dtype of DTYPES) {
      for (const shuffle of BLOSC_SHUFFLES) {
        const raw = pixels(dtype, 50_000 + 3); // odd length: blocks and the shuffle have leftovers
        const s = settings({ shuffle, typesize: bytesPerPixel(dtype) });
        const out = await engine.compress(raw, s);
        const header = parseBloscHeader(out);
        t.is(header.nbytes, raw.byteLength);
        t.is(header.cbytes, out.byteLength);
        t.is(header.typesize, engine.effectiveTypesize(s), `${dtype}/${shuffle}: header typesize`);
        if (name === 'native') t.is(header.typesize, bytesPerPixel(dtype), `${dtype}: native writes the dtype size`);
        else t.is(header.typesize, WASM_TYPESIZE);
        // c-blosc records the requested filter even where it is a no-op (typesize 1, or a plain copy).
        t.is(header.shuffle, shuffle === 'byte', `${dtype}/${shuffle}: byte-shuffle flag`);
        t.is(header.bitshuffle, shuffle === 'bit', `${dtype}/${shuffle}: bit-shuffle flag`);
        t.true(same(await jsDecode(out), raw), `${dtype}/${shuffle}: numcodecs.js decode`);
        raws.push(raw);
        encoded.push(out);
      }
    }
    const decoded = pythonDecode(encoded);
    decoded.forEach((d, i) => t.true(same(d, raws[i]!), `python decode of case ${i}`));
  });

  test(`${name}: every cname, clevel 0 and incompressible data stay valid`, async (t) => {
    const engine = await engines.get(name)!;
    const cases: { label: string; raw: Uint8Array; s: BloscSettings; check?: (out: Uint8Array) => void }[] = [];
    for (const cname of BLOSC_CNAMES) {
      cases.push({
        label: `${cname} pixels`,
        raw: pixels('uint16', 200_000),
        s: settings({ cname, typesize: 2 }),
        check: (out) => {
          t.is(parseBloscHeader(out).compressor, cname);
          t.true(out.byteLength < 400_000, `${cname} compresses`);
        },
      });
      cases.push({ label: `${cname} random`, raw: randomBytes(300_001), s: settings({ cname, clevel: 9, typesize: 2 }) });
    }
    cases.push({
      label: 'clevel 0',
      raw: pixels('uint16', 100_000),
      s: settings({ clevel: 0, typesize: 2 }),
      check: (out) => {
        t.true(parseBloscHeader(out).memcpyed, 'clevel 0 stores a plain copy');
        t.is(out.byteLength, 200_000 + 16);
      },
    });
    cases.push({ label: 'explicit blocksize', raw: pixels('uint16', 100_000), s: settings({ blocksize: 16384, typesize: 2 }) });
    const outs: Uint8Array[] = [];
    for (const c of cases) {
      const dest = new Uint8Array(c.raw.byteLength + 16);
      const out = await engine.compress(c.raw, c.s, dest);
      t.is(out.buffer, dest.buffer, `${c.label}: written into dest`);
      t.true(out.byteLength <= c.raw.byteLength + 16, `${c.label}: within BLOSC_MAX_OVERHEAD`);
      c.check?.(out);
      t.true(same(await jsDecode(out), c.raw), `${c.label}: numcodecs.js decode`);
      outs.push(out.slice());
    }
    const decoded = pythonDecode(outs);
    decoded.forEach((d, i) => t.true(same(d, cases[i]!.raw), `${cases[i]!.label}: python decode`));
    // Zarr never stores empty chunks, and Python numcodecs rejects them, so only numcodecs.js checks this one.
    const empty = await engine.compress(new Uint8Array(0), settings({ typesize: 2 }));
    t.is(parseBloscHeader(empty).nbytes, 0);
    t.is((await jsDecode(empty)).byteLength, 0);
  });

  test(`${name}: the pool compresses many chunks concurrently, identical to single-threaded, raw returned intact`, async (t) => {
    const engine = await engines.get(name)!;
    const pool = new CompressPool({ workers: 2, engine: name });
    t.is(pool.engineName, name);
    try {
      const chunks = Array.from({ length: 24 }, (_, i) => pixels(i % 2 ? 'uint16' : 'float32', 60_000 + i, i + 1));
      const s = (i: number) => settings({ cname: i % 3 ? 'lz4' : 'zstd', clevel: 1 + (i % 9), typesize: i % 2 ? 2 : 4 });
      const expected = await Promise.all(chunks.map(async (c, i) => (await engine.compress(c, s(i))).slice()));
      const copies = chunks.map((c) => c.slice());
      const results = await Promise.all(copies.map((c, i) => pool.compress(c, s(i))));
      results.forEach((r, i) => {
        t.true(same(r.data, expected[i]), `chunk ${i}: same bytes as single-threaded`);
        t.true(same(r.raw, chunks[i]), `chunk ${i}: raw buffer back intact`);
        t.is(copies[i]!.byteLength, 0, `chunk ${i}: the input was transferred, not copied`);
      });
      // Released output buffers are reused: the next round must still produce correct, independent results.
      results.forEach((r) => r.release());
      const again = await Promise.all(results.map((r, i) => pool.compress(r.raw, s(i))));
      again.forEach((r, i) => t.true(same(r.data, expected[i]), `chunk ${i}: second round`));
      t.is(new Set(again.map((r) => r.data.buffer)).size, again.length, 'concurrent results never share a buffer');
      // A view into a larger buffer keeps its offset and length.
      const big = new Uint8Array(1 << 16);
      big.set(chunks[0]!.subarray(0, 1000), 4096);
      const part = await pool.compress(big.subarray(4096, 5096), settings({ typesize: 4 }));
      t.is(part.raw.byteOffset, 4096);
      t.true(same(await jsDecode(part.data), chunks[0]!.subarray(0, 1000)));
      // SharedArrayBuffer-backed input is compressed in place, not transferred.
      const shared = new Uint8Array(new SharedArrayBuffer(chunks[1]!.byteLength));
      shared.set(chunks[1]!);
      const fromShared = await pool.compress(shared, s(1));
      t.is(shared.byteLength, chunks[1]!.byteLength, 'shared input stays usable');
      t.true(same(fromShared.data, expected[1]!));
    } finally {
      await pool.close();
    }
    await t.throwsAsync(pool.compress(new Uint8Array(8), settings()), { message: /closed/ });
  });
}

test('activeEngineName names the engine last loaded', async (t) => {
  await loadEngine('wasm');
  t.is(activeEngineName(), 'wasm');
});

test('pool: invalid settings reject naming the field', async (t) => {
  const pool = new CompressPool({ workers: 1, engine: 'wasm' });
  try {
    await t.throwsAsync(async () => pool.compress(new Uint8Array(8), settings({ clevel: 12 })), {
      message: 'clevel must be an integer 0..9, got 12',
    });
  } finally {
    await pool.close();
  }
  t.throws(() => new CompressPool({ workers: 0 }), { message: /workers must be a positive integer, got 0/ });
  t.throws(() => new CompressPool({ engine: 'gpu' as never }), { message: /engine must be one of auto, native, wasm, got "gpu"/ });
});

test('v2Compressor builds the numcodecs compressor object', (t) => {
  t.is(v2Compressor(undefined), null);
  t.is(
    JSON.stringify(v2Compressor(settings({ cname: 'zstd', clevel: 3, shuffle: 'bit', blocksize: 0, typesize: 2 }))),
    '{"id":"blosc","cname":"zstd","clevel":3,"shuffle":2,"blocksize":0}',
  );
  t.is(v2Compressor(settings({ shuffle: 'none' }))!.shuffle, 0);
  t.is(v2Compressor(settings({ shuffle: 'byte' }))!.shuffle, 1);
});

test('v3Codecs builds the bytes + blosc chain of the v3 spec', (t) => {
  t.is(JSON.stringify(v3Codecs()), '[{"name":"bytes","configuration":{"endian":"little"}}]');
  t.is(
    JSON.stringify(v3Codecs(settings({ cname: 'lz4', clevel: 1, shuffle: 'byte', blocksize: 0, typesize: 2 }))),
    '[{"name":"bytes","configuration":{"endian":"little"}},' +
      '{"name":"blosc","configuration":{"cname":"lz4","clevel":1,"shuffle":"shuffle","typesize":2,"blocksize":0}}]',
  );
  const shuffles = (['none', 'byte', 'bit'] as const).map((shuffle) => v3Codecs(settings({ shuffle })).at(1)!.configuration.shuffle);
  t.deepEqual(shuffles, ['noshuffle', 'shuffle', 'bitshuffle']);
});

test('validateBloscOptions fills defaults and names the bad field and value', (t) => {
  t.deepEqual(validateBloscOptions({ typesize: 2 }), { cname: 'lz4', clevel: 5, shuffle: 'byte', blocksize: 0, typesize: 2 });
  t.deepEqual(validateBloscOptions({ cname: 'zstd', clevel: 0, shuffle: 'bit', blocksize: 65536, typesize: 8 }), {
    cname: 'zstd', clevel: 0, shuffle: 'bit', blocksize: 65536, typesize: 8,
  });
  t.throws(() => validateBloscOptions({ clevel: 12 }), { message: 'clevel must be an integer 0..9, got 12' });
  t.throws(() => validateBloscOptions({ clevel: 1.5 }), { message: 'clevel must be an integer 0..9, got 1.5' });
  t.throws(() => validateBloscOptions({ clevel: '3' }), { message: 'clevel must be an integer 0..9, got "3"' });
  t.throws(() => validateBloscOptions({ cname: 'snappy' }), { message: 'cname must be one of lz4, zstd, blosclz, zlib, got "snappy"' });
  t.throws(() => validateBloscOptions({ shuffle: 1 }), { message: 'shuffle must be one of none, byte, bit, got 1' });
  t.throws(() => validateBloscOptions({ blocksize: -1 }), { message: /^blocksize must be an integer 0\.\.\d+ \(0 = automatic\), got -1$/ });
  t.throws(() => validateBloscOptions({ typesize: 0 }), { message: 'typesize must be an integer 1..255, got 0' });
  t.throws(() => validateBloscOptions({ typesize: 256 }), { message: 'typesize must be an integer 1..255, got 256' });
  t.throws(() => validateBloscOptions(null as never), { message: 'blosc options must be an object, got null' });
});

test('parseBloscHeader reads a hand-made header and rejects short input', (t) => {
  const h = new Uint8Array([2, 1, 0x21 | 0x10, 2, 0x10, 0, 0, 0, 0x00, 0x01, 0, 0, 0x30, 0, 0, 0]);
  t.like(parseBloscHeader(h), {
    version: 2, versionlz: 1, shuffle: true, memcpyed: false, bitshuffle: false, dontSplit: true,
    compressor: 'lz4', typesize: 2, nbytes: 16, blocksize: 256, cbytes: 48,
  });
  t.throws(() => parseBloscHeader(new Uint8Array(15)), { message: 'blosc buffer must hold at least 16 header bytes, got 15' });
});
