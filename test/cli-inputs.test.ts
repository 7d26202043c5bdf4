/**
 * `zarr-stream write --input`: raw frames from a file and from stdin, and multi-page (OME-)TIFF written by an
 * independent tool (Debian's tifffile), each read back pixel for pixel by zarrita.js and, for v2, by zarr-python.
 * Bad inputs: one line naming the input and the frame, non-zero exit, the frames before it stored with metadata.
 * Progress: a live bar on a terminal (run under script(1), a pseudo-terminal), no control codes elsewhere.
 */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstDifference, randomBytes, tempDir } from './helpers/frames.js';
import { python, readWithPython, readWithZarrita, requirePythonModule, requirePythonZarr } from './helpers/readers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], stdin?: Uint8Array): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    // A writer may stop reading early (a truncated frame ends it): a closed pipe is not the test's failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

async function scratch(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await tempDir('zs-inputs-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const W = 37;
const H = 23;

test('--input frames.raw and --input - (stdin): every pixel back, v2 by zarr-python too; chunks capped at the frame count', async (t) => {
  const dir = await scratch(t);
  const bytes = randomBytes(W * H * 2 * 2 * 7, 11); // 7 frames of 2 planes, uint16
  const raw = path.join(dir, 'frames.raw');
  await writeFile(raw, bytes);
  const shape = ['--width', String(W), '--height', String(H), '--planes', '2', '--dtype', 'uint16'];
  const fromFile = await cli(['write', path.join(dir, 'file.zarr'), '--input', raw, ...shape, '--zarr-version', '2', '--compression', 'zstd', '--tile-width', '16', '--tile-height', '16', '--json']);
  t.is(fromFile.code, 0, fromFile.stderr);
  t.deepEqual(JSON.parse(fromFile.stdout).chunks, [7, 1, 16, 16], 'a 7-frame input gets 7-frame chunks, not 64 MiB ones');
  t.is(firstDifference((await readWithZarrita(path.join(dir, 'file.zarr'))).bytes, bytes), -1);
  if (await requirePythonZarr(t.log.bind(t))) t.is(firstDifference((await readWithPython(path.join(dir, 'file.zarr'))).bytes, bytes), -1);

  const fromStdin = await cli(['write', path.join(dir, 'stdin.zarr'), '--input', '-', ...shape, '--compression', 'lz4', '--multiscale', '--tile-width', '16', '--tile-height', '16'], bytes);
  t.is(fromStdin.code, 0, fromStdin.stderr);
  const back = await readWithZarrita(path.join(dir, 'stdin.zarr'));
  t.deepEqual(back.shape, [7, 2, H, W]);
  t.is(firstDifference(back.bytes, bytes), -1);
  const limited = await cli(['write', path.join(dir, 'three.zarr'), '--input', '-', ...shape, '--frames', '3'], bytes);
  t.is(limited.code, 0, limited.stderr);
  t.deepEqual((await readWithZarrita(path.join(dir, 'three.zarr'))).shape, [3, 2, H, W]);
});

test('a truncated last frame (file or stdin): one line naming the input and frame, exit 1, the frames before it stored', async (t) => {
  const dir = await scratch(t);
  const frameBytes = W * H * 2;
  const bytes = randomBytes(frameBytes * 4 + 100, 3);
  const raw = path.join(dir, 'cut.raw');
  await writeFile(raw, bytes);
  for (const [input, stdin] of [[raw, undefined], ['-', bytes]] as const) {
    const out = path.join(dir, `${input === '-' ? 'stdin' : 'file'}.zarr`);
    const run = await cli(['write', out, '--input', input, '--width', String(W), '--height', String(H), '--compression', 'lz4'], stdin);
    t.is(run.code, 1, run.stderr);
    const name = input === '-' ? 'stdin' : raw;
    t.is(run.stderr.trim(), `zarr-stream: error: input ${name}, frame 4: truncated: the input ended 100 bytes into a ${frameBytes}-byte frame (${W}x${H}x1 uint16); the 4 frames before it are stored in ${out}`);
    const back = await readWithZarrita(out);
    t.deepEqual(back.shape, [4, 1, H, W]);
    t.is(firstDifference(back.bytes, bytes.subarray(0, frameBytes * 4)), -1);
  }
});

test('--input stack.tif and an OME-TIFF from tifffile: shape, dtype and pixel size from the file, every pixel back', async (t) => {
  if (!(await requirePythonModule('tifffile', 'python3-tifffile', t.log.bind(t)))) return t.pass();
  const dir = await scratch(t);
  const [stack, ome, stackRaw, omeRaw] = ['stack.tif', 'cells.ome.tif', 'stack.raw', 'cells.raw'].map((f) => path.join(dir, f)) as [string, string, string, string];
  await python(
    [
      'import sys, numpy as np, tifffile',
      'rng = np.random.default_rng(5)',
      's = rng.integers(0, 65535, size=(6, 21, 34)).astype("uint16")',
      'tifffile.imwrite(sys.argv[1], s, photometric="minisblack", compression="zlib")',
      's.tofile(sys.argv[3])',
      'o = rng.normal(100, 30, size=(4, 2, 18, 25)).astype("float32")',
      'tifffile.imwrite(sys.argv[2], o, ome=True, metadata={"axes": "TCYX", "PhysicalSizeX": 0.325, "PhysicalSizeY": 0.325})',
      'o.tofile(sys.argv[4])',
    ].join('\n'),
    stack,
    ome,
    stackRaw,
    omeRaw,
  );
  const a = await cli(['write', path.join(dir, 'stack.zarr'), '--input', stack, '--zarr-version', '2', '--compression', 'lz4', '--json']);
  t.is(a.code, 0, a.stderr);
  t.like(JSON.parse(a.stdout), { shape: [6, 1, 21, 34], dtype: 'uint16' });
  t.is(firstDifference((await readWithZarrita(path.join(dir, 'stack.zarr'))).bytes, await readFile(stackRaw)), -1);
  if (await requirePythonZarr(t.log.bind(t))) t.is(firstDifference((await readWithPython(path.join(dir, 'stack.zarr'))).bytes, await readFile(stackRaw)), -1);

  const b = await cli(['write', path.join(dir, 'cells.zarr'), '--input', ome, '--multiscale', '--tile-width', '16', '--tile-height', '16']);
  t.is(b.code, 0, b.stderr);
  const back = await readWithZarrita(path.join(dir, 'cells.zarr'));
  t.deepEqual(back.shape, [4, 2, 18, 25]);
  t.is(back.dtype, 'float32');
  t.is(firstDifference(back.bytes, await readFile(omeRaw)), -1);
  const root = JSON.parse(await readFile(path.join(dir, 'cells.zarr', 'zarr.json'), 'utf8'));
  t.deepEqual(root.attributes.ome.multiscales[0].datasets[0].coordinateTransformations[0].scale, [1, 1, 0.325, 0.325]);
});

test('bad TIFF inputs: contradicting flags (exit 2), a page of another size (frames before it stored), not a TIFF', async (t) => {
  if (!(await requirePythonModule('tifffile', 'python3-tifffile', t.log.bind(t)))) return t.pass();
  const dir = await scratch(t);
  const mixed = path.join(dir, 'mixed.tif');
  await python(
    [
      'import sys, numpy as np, tifffile',
      'with tifffile.TiffWriter(sys.argv[1]) as w:',
      '    for i in range(3): w.write(np.full((10, 12), i + 1, "uint8"))',
      '    w.write(np.zeros((11, 12), "uint8"))',
    ].join('\n'),
    mixed,
  );
  const contradicted = await cli(['write', path.join(dir, 'never.zarr'), '--input', mixed, '--dtype', 'uint16']);
  t.is(contradicted.code, 2);
  t.regex(contradicted.stderr, /--dtype uint16 contradicts .*mixed\.tif, whose frames are 12x10x1 uint8/);

  const out = path.join(dir, 'mixed.zarr');
  const run = await cli(['write', out, '--input', mixed]);
  t.is(run.code, 1);
  t.regex(run.stderr, /^zarr-stream: error: input .*mixed\.tif, frame 3: page 3 is 12x11 uint8, not 12x10 uint8 like page 0; the 3 frames before it are stored in /);
  const back = await readWithZarrita(out);
  t.deepEqual(back.shape, [3, 1, 10, 12]);
  t.deepEqual([...new Set(back.bytes)], [1, 2, 3]);

  const fake = path.join(dir, 'fake.tif');
  await writeFile(fake, 'plain text, no TIFF header');
  const notTiff = await cli(['write', path.join(dir, 'fake.zarr'), '--input', fake]);
  t.is(notTiff.code, 1);
  t.regex(notTiff.stderr, /input .*fake\.tif: not a TIFF file/);
  const missing = await cli(['write', path.join(dir, 'nothing.zarr'), '--input', path.join(dir, 'absent.raw')]);
  t.regex(missing.stderr, /input .*absent\.raw: no such file/);
  t.is(missing.stderr.trim().split('\n').length, 1);
});

/** Runs the CLI under script(1), a pseudo-terminal: stderr is a TTY there, as in a user's shell. */
function underTerminal(args: string[]): Promise<{ code: number; output: string }> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return new Promise((resolve) => {
    execFile('script', ['-qec', command, '/dev/null'], { env: { ...process.env, COLUMNS: '120', TERM: 'xterm' } }, (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout }));
  });
}

test('progress: a live bar on a terminal, nothing with --quiet, no control codes when stderr is not a terminal', async (t) => {
  const dir = await scratch(t);
  const args = ['--frames', '600', '--width', '128', '--height', '128', '--frames-per-chunk', '8', '--compression', 'lz4'];
  const tty = await underTerminal(['write', path.join(dir, 'tty.zarr'), ...args]);
  t.is(tty.code, 0, tty.output);
  t.regex(tty.output, /writing \[[#-]+\] \d+\/600 frames \| [\d.]+ MB\/s \| ratio [\d.-]+ \| ETA/);
  t.regex(tty.output, /\[#+\] 600\/600 frames/);
  t.regex(tty.output, /\u001b\[|\r/, 'the bar redraws itself with control characters');
  const quiet = await underTerminal(['write', path.join(dir, 'quiet.zarr'), ...args, '--quiet']);
  t.is(quiet.code, 0, quiet.output);
  t.notRegex(quiet.output, /writing \[/);
  const piped = await cli(['write', path.join(dir, 'piped.zarr'), ...args]);
  t.is(piped.code, 0, piped.stderr);
  t.notRegex(piped.stderr, /\u001b\[|\r/);
  t.regex(piped.stdout, /^wrote /);
});
