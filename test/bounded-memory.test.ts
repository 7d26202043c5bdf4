/**
 * Bounded memory whatever the shape: a 5-D acquisition whose one time point is 3 GiB (2 channels x 192 z of
 * 2048 x 2048 uint16, chunks 1 x 1 x 16 x 512 x 512) is written in a child process, so its peak RSS is its own.
 * The writer holds the chunks being filled, not volumes: its peak stays within estimateMemory(), far below a volume.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./helpers/bounded-write.js', import.meta.url));

test('a 3 GiB time point streams within the estimate (peak RSS of the writing process)', async (t) => {
  const { stdout } = await run(process.execPath, [SCRIPT, '192'], { maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout) as { estimate: number; before: number; maxRss: number; volumeBytes: number; values: number; bytes: number; shape: number[] };
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  t.log(`volume ${mib(result.volumeBytes)}, estimate ${mib(result.estimate)}, peak RSS ${mib(result.maxRss)} (${mib(result.maxRss - result.before)} above the start)`);
  t.deepEqual(result.shape, [1, 2, 192, 2048, 2048]);
  t.is(result.values, 2 * 12 * 16);
  t.true(result.bytes > 0);
  t.true(result.maxRss - result.before <= result.estimate, `writer memory ${mib(result.maxRss - result.before)} > estimate ${mib(result.estimate)}`);
  t.true(result.estimate < result.volumeBytes / 4);
});
