/**
 * Frame sources for real data: raw byte streams and multi-page (OME-)TIFF. TIFFs are written by an independent tool,
 * Debian's tifffile, with the same pixels saved raw beside them, so every decoded pixel is compared with what numpy
 * wrote.
 */
import test from 'ava';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { InputError } from '../src/inputs/input-error.js';
import { omePixels } from '../src/inputs/ome-xml.js';
import { rawFileFrames, rawFrames } from '../src/inputs/raw-frames.js';
import { openTiff } from '../src/inputs/tiff-frames.js';
import type { Frame } from '../src/messages.js';
import { randomBytes, tempDir } from './helpers/frames.js';
import { python, requirePythonModule } from './helpers/readers.js';

const bytesOf = (frame: Frame): Uint8Array => new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);

async function collect(frames: AsyncIterable<Frame>): Promise<{ frames: Uint8Array[]; error?: unknown }> {
  const out: Uint8Array[] = [];
  try {
    for await (const frame of frames) out.push(bytesOf(frame).slice());
  } catch (error) {
    return { frames: out, error };
  }
  return { frames: out };
}

/** `bytes` cut into pieces of awkward sizes, as a pipe delivers them. */
function pieces(bytes: Uint8Array): Readable {
  const parts: Uint8Array[] = [];
  for (let at = 0, size = 1; at < bytes.byteLength; at += size, size = (size * 7 + 3) % 977) parts.push(bytes.subarray(at, at + size));
  return Readable.from(parts, { objectMode: false });
}

test('raw frames from a stream cut anywhere: every frame exact; a truncated last frame names the input and index', async (t) => {
  const shape = { width: 13, height: 7, planes: 2, dtype: 'uint16' as const };
  const frameBytes = 13 * 7 * 2 * 2;
  const data = randomBytes(frameBytes * 5 + 100);
  const { frames, error } = await collect(rawFrames(pieces(data), shape, 'stdin'));
  t.is(frames.length, 5);
  frames.forEach((frame, i) => t.deepEqual(frame, data.subarray(i * frameBytes, (i + 1) * frameBytes)));
  t.true(error instanceof InputError);
  t.is((error as InputError).frameIndex, 5);
  t.regex((error as Error).message, /^input stdin, frame 5: truncated: the input ended 100 bytes into a 364-byte frame \(13x7x2 uint16\)$/);

  const whole = await collect(rawFrames(pieces(data.subarray(0, frameBytes * 3)), shape, 'stdin'));
  t.is(whole.frames.length, 3);
  t.is(whole.error, undefined);
  const limited = await collect(rawFrames(pieces(data), shape, 'stdin', 2));
  t.is(limited.frames.length, 2);
  t.is(limited.error, undefined);
});

test('raw frames from a file, and a missing file named in the error', async (t) => {
  const dir = await tempDir('zs-raw-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'frames.raw');
  const data = randomBytes(64 * 32 * 4 * 3);
  await writeFile(file, data);
  const { frames, error } = await collect(rawFileFrames(file, { width: 64, height: 32, planes: 1, dtype: 'float32' }));
  t.is(error, undefined);
  t.deepEqual(Buffer.concat(frames), Buffer.from(data));
  const missing = await collect(rawFileFrames(path.join(dir, 'nope.raw'), { width: 64, height: 32, planes: 1, dtype: 'float32' }));
  t.regex(String(missing.error), /input .*nope\.raw, frame 0: ENOENT/);
});

test('multi-page TIFFs written by tifffile decode page by page, every dtype, every pixel', async (t) => {
  if (!(await requirePythonModule('tifffile', 'python3-tifffile', t.log.bind(t)))) return t.pass();
  const dir = await tempDir('zs-tiff-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const dtype of ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32'] as const) {
    const tif = path.join(dir, `${dtype}.tif`);
    const raw = path.join(dir, `${dtype}.raw`);
    await python(
      [
        'import sys, numpy as np, tifffile',
        'rng = np.random.default_rng(7)',
        `d = rng.integers(-2**30, 2**30, size=(4, 19, 23)).astype("${dtype}")`,
        `d = (d * 0.37).astype("${dtype}") if "${dtype}" == "float32" else d`,
        // A first axis of 3 or 4 would make tifffile write RGB(A) planes: say these are grey pages.
        'tifffile.imwrite(sys.argv[1], d, photometric="minisblack")',
        'd.astype(d.dtype.newbyteorder("<")).tofile(sys.argv[2])',
      ].join('\n'),
      tif,
      raw,
    );
    const input = await openTiff(tif);
    t.like(input, { width: 23, height: 19, planes: 1, dtype, frames: 4, pixelScaleUm: undefined }, dtype);
    const { frames, error } = await collect(input.read());
    t.is(error, undefined);
    t.deepEqual(Buffer.concat(frames), await readFile(raw), dtype);
  }
});

test('OME-TIFF: pixel size into micrometers, adjacent channels become planes; mismatched pages and non-TIFFs are named', async (t) => {
  if (!(await requirePythonModule('tifffile', 'python3-tifffile', t.log.bind(t)))) return t.pass();
  const dir = await tempDir('zs-ome-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ome = path.join(dir, 'stack.ome.tif');
  const raw = path.join(dir, 'stack.raw');
  const mixed = path.join(dir, 'mixed.tif');
  await python(
    [
      'import sys, numpy as np, tifffile',
      'd = (np.arange(3 * 2 * 10 * 12, dtype="uint16").reshape(3, 2, 10, 12) * 13) % 4001',
      'tifffile.imwrite(sys.argv[1], d, ome=True, metadata={"axes": "TCYX", "PhysicalSizeX": 650, "PhysicalSizeXUnit": "nm", "PhysicalSizeY": 0.4})',
      'd.tofile(sys.argv[2])',
      'with tifffile.TiffWriter(sys.argv[3]) as w:',
      '    w.write(np.zeros((10, 12), "uint16"))',
      '    w.write(np.zeros((10, 12), "uint16"))',
      '    w.write(np.zeros((11, 12), "uint16"))',
    ].join('\n'),
    ome,
    raw,
    mixed,
  );
  const input = await openTiff(ome);
  t.like(input, { width: 12, height: 10, planes: 2, dtype: 'uint16', frames: 3 });
  t.deepEqual(input.pixelScaleUm, { x: 0.65, y: 0.4 });
  const { frames } = await collect(input.read());
  t.deepEqual(Buffer.concat(frames), await readFile(raw));

  const bad = await collect((await openTiff(mixed)).read());
  t.is(bad.frames.length, 2);
  t.regex(String(bad.error), /input .*mixed\.tif, frame 2: page 2 is 12x11 uint16, not 12x10 uint16 like page 0/);
  const notTiff = path.join(dir, 'notes.txt');
  await writeFile(notTiff, 'not an image');
  await t.throwsAsync(openTiff(notTiff), { instanceOf: InputError, message: /input .*notes\.txt: not a readable TIFF file/ });
});

test('omePixels reads sizes, order and units, and ignores what is not OME-XML', (t) => {
  const xml = '<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels DimensionOrder="XYZCT" SizeC="3" SizeZ="5" SizeT="2" PhysicalSizeX="0.1" PhysicalSizeY="100" PhysicalSizeYUnit="nm" Type="uint16"/></Image></OME>';
  t.deepEqual(omePixels(xml), { sizeC: 3, sizeZ: 5, sizeT: 2, dimensionOrder: 'XYZCT', physicalSizeUm: { x: 0.1, y: 0.1 } });
  t.is(omePixels('{"shape": [5, 30, 40]}'), undefined);
  t.is(omePixels('<OME><Image/></OME>'), undefined);
  t.like(omePixels('<OME><Image><Pixels SizeC="1" PhysicalSizeX="2" PhysicalSizeXUnit="parsec"/></Image></OME>'), { sizeC: 1, physicalSizeUm: undefined });
});
