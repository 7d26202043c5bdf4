/** The progress reporter's figures: pure functions, and the plain lines written where stderr is not a terminal. */
import test from 'ava';
import { Writable } from 'node:stream';
import { progressReporter, progressText, timeLeft } from '../src/cli/progress.js';

test('MB/s counts frame data, the ratio the frames stored over the bytes stored, time left at the mean rate', (t) => {
  t.deepEqual(progressText({ frames: 100, bytes: 4e8, dataBytes: 8e8 }, 2, 8e6), { mbps: '400.0', ratio: '2.00' });
  t.deepEqual(progressText({ frames: 0, bytes: 0, dataBytes: 0 }, 0, 8e6), { mbps: '0.0', ratio: '-' });
  t.is(timeLeft(0, 100, 5), '-');
  t.is(timeLeft(10, undefined, 5), '-');
  t.is(timeLeft(50, 100, 20), '20s');
  t.is(timeLeft(10, 100, 30), '4m30s');
  t.is(timeLeft(1, 1000, 10), '2h46m');
});

test('lines mode: a plain line at most every lineSeconds, no control characters', (t) => {
  let clock = 0;
  let written = '';
  const stream = new Writable({ write: (chunk, _enc, cb) => ((written += String(chunk)), cb()) }) as unknown as NodeJS.WriteStream;
  const reporter = progressReporter({ mode: 'lines', total: 10, frameBytes: 1e6, stream, lineSeconds: 10, now: () => clock });
  for (let frames = 1; frames <= 10; frames++) {
    clock += 3000;
    reporter.update({ frames, bytes: frames * 5e5, dataBytes: frames * 1e6 });
  }
  reporter.stop();
  t.deepEqual(written.trim().split('\n'), ['zarr-stream: 4/10 frames stored, 0.3 MB/s, ratio 2.00', 'zarr-stream: 8/10 frames stored, 0.3 MB/s, ratio 2.00']);
  t.notRegex(written, /\u001b|\r/);
});
