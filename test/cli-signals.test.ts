/** The CLI stops on SIGTERM and SIGHUP as on Ctrl-C, and reports the frames its final metadata holds. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstDifference, makeFrames, tempDir } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  test(`${signal} stops the write: exit ${code}, the message counts the frames the final metadata holds`, async (t) => {
    const dir = await tempDir();
    const out = path.join(dir, 'stopped.zarr');
    const child = spawn(process.execPath, [CLI, 'write', out, '--frames', '100000', '--width', '128', '--height', '128', '--frames-per-chunk', '4', '--zarr-version', '2']);
    let stderr = '';
    child.stderr.on('data', (data) => (stderr += data));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    const zarray = path.join(out, '0', '.zarray');
    for (let i = 0; i < 4000; i++) {
      const shape = existsSync(zarray) ? JSON.parse(await readFile(zarray, 'utf8')).shape[0] : 0;
      if (shape >= 8) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill(signal);
    t.is(await exited, code, stderr);
    const reported = Number(/interrupted: (\d+) of 100000 frames are stored and readable in .* \((SIG\w+)\)/.exec(stderr)?.[1]);
    t.regex(stderr, new RegExp(`\\(${signal}\\)`));
    t.is(JSON.parse(await readFile(zarray, 'utf8')).shape[0], reported);
    const back = await readWithZarrita(out);
    t.is(firstDifference(back.bytes, makeFrames(reported, 128, 128, 1, 'uint16').bytes), -1);
    t.deepEqual((await readdir(out, { recursive: true })).map(String).filter((file) => file.includes('.partial')), []);
    await rm(dir, { recursive: true, force: true });
  });
}
