/** `write --dimensions ... --acquisition-order ...`: 5-D stores from the command line, read back by zarr-python. */
import test from 'ava';
import path from 'node:path';
import { syntheticFrame } from '../src/frames/synthetic.js';
import { firstDifference, tempDir } from './helpers/frames.js';
import { readWithPython, readWithZarrita, requirePythonZarr } from './helpers/readers.js';
import { cli } from './helpers/cli.js';



test('--frames counts 2-D frames: 560 frames with c:2 and z:40 are 7 time points, frame k (t, z, c order) is synthetic frame k', async (t) => {
  const dir = await tempDir();
  const out = path.join(dir, 'five.zarr');
  const [C, Z, Y, X] = [2, 40, 6, 5];
  const run = await cli(['write', out, '--dimensions', `t:0:2,c:${C}:1,z:${Z}:8,y:${Y}:4,x:${X}:4`, '--acquisition-order', 't,z,c', '--frames', '560', '--zarr-version', '2', '--compression', 'lz4', '--json', '--no-durable']);
  t.is(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  t.deepEqual(summary.shape, [7, C, Z, Y, X]);
  t.is(summary.rawBytes, 560 * Y * X * 2);
  const expected = new Uint8Array(7 * C * Z * Y * X * 2);
  let k = 0;
  for (let ti = 0; ti < 7; ti++) {
    for (let z = 0; z < Z; z++) {
      for (let c = 0; c < C; c++) {
        const frame = syntheticFrame(k++, X, Y, 1, 'uint16');
        expected.set(new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), ((ti * C + c) * Z + z) * Y * X * 2);
      }
    }
  }
  t.is(firstDifference((await readWithZarrita(out)).bytes, expected), -1);
  if (await requirePythonZarr(t.log)) t.is(firstDifference((await readWithPython(out)).bytes, expected), -1);
  const preview = await cli(['preview', out, '--frame', '6', '--plane', '1', '--z', '39', '--out', path.join(dir, 'z.png'), '--json']);
  t.is(preview.code, 0, preview.stderr);
  t.deepEqual(JSON.parse(preview.stdout).selection, { t: 6, c: 1, z: 39 });
  t.regex((await cli(['preview', out, '--z', '40', '--out', path.join(dir, 'no.png')])).stderr, /--z must be below 40/);
});

test('--dimensions refuses the shorthand flags and a bad entry, naming them', async (t) => {
  const dir = await tempDir();
  const out = path.join(dir, 'never.zarr');
  const cases: Array<[string[], RegExp]> = [
    [['--dimensions', 't:0:1,y:4:4,x:4:4', '--tile-width', '2'], /--tile-width cannot be given with --dimensions/],
    [['--dimensions', 't:0:1,y:4,x:4:4'], /--dimensions entry 2 must be name:size:chunk/],
    [['--dimensions', 't:0:1,y:4:four,x:4:4'], /--dimensions y: chunk must be an integer, got "four"/],
    [['--dimensions', 'y:4:4,t:2:1,x:4:4'], /--dimensions .*OME-NGFF/],
    [['--dimensions', 't:0:1,c:0:1,y:4:4,x:4:4'], /--dimensions entry 2 size must be an integer >= 1, got 0/],
    [['--acquisition-order', 't,c'], /--acquisition-order needs --dimensions/],
    [['--dimensions', 't:0:1,c:2:1,y:4:4,x:4:4', '--acquisition-order', 'c,t'], /--acquisition-order/],
  ];
  for (const [args, message] of cases) {
    const run = await cli(['write', out, ...args]);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message);
  }
});
