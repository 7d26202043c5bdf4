/** MetadataPublisher: one write in flight, requests coalesced to the newest count, failures retried. */
import test from 'ava';
import { MetadataPublisher } from '../src/sinks/metadata-publisher.js';

function publisher(fail: (frames: number, attempt: number) => boolean = () => false) {
  const writes: number[] = [];
  const events: string[] = [];
  let inFlight = 0;
  let most = 0;
  let release: (() => void) | undefined;
  const p = new MetadataPublisher(
    async (frames) => {
      inFlight++;
      most = Math.max(most, inFlight);
      writes.push(frames);
      await new Promise<void>((resolve) => (release = resolve));
      inFlight--;
      if (fail(frames, writes.length)) throw new Error(`write of ${frames} failed`);
    },
    { written: (frames) => events.push(`written ${frames}`), failed: (error) => events.push((error as Error).message) },
  );
  const step = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { p, writes, events, step, most: () => most };
}

test('requests made while a write is in flight coalesce into one write of the newest count', async (t) => {
  const { p, writes, events, step, most } = publisher();
  void p.request(1);
  void p.request(2);
  void p.request(3);
  await step();
  await step();
  t.deepEqual(writes, [1, 3]);
  t.deepEqual(events, ['written 1', 'written 3']);
  t.is(p.visible, 3);
  t.is(most(), 1);
  // Nothing new: no write starts (a write would be recorded at once).
  const again = p.request(3);
  t.deepEqual(writes, [1, 3]);
  await again;
});

test('a failed write is retried by the next request, and flush() tries twice', async (t) => {
  const { p, writes, events, step } = publisher((_, attempt) => attempt === 1 || attempt === 3 || attempt === 4);
  void p.request(1);
  await step();
  t.is(p.visible, -1);
  void p.request(2);
  await step();
  t.deepEqual(writes, [1, 2]);
  t.is(p.visible, 2);
  p.request(5);
  const flushed = p.flush();
  await step();
  await step();
  await t.throwsAsync(flushed, { message: 'write of 5 failed' });
  t.deepEqual(writes, [1, 2, 5, 5]);
  t.deepEqual(events, ['write of 1 failed', 'written 2', 'write of 5 failed', 'write of 5 failed']);
  const again = p.flush();
  await step();
  await again;
  t.is(p.visible, 5);
});
