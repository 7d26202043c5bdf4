/** Custom attributes of the image group: the `attributes` option, sink.setAttributes, their validation. */
import test from 'ava';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { checkJson, resolveAttributes } from '../src/metadata/attributes.js';
import { OptionError } from '../src/options.js';
import { sinkOf, zarrTransforms } from '../src/zarr-transforms.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import { makeFrames } from './helpers/frames.js';
import { validateV2, validateV3 } from './helpers/ngff-schemas.js';

const OPTIONS = { dtype: 'uint16', width: 16, height: 8, chunking: { framesPerChunk: 2 } } as const;
const json = (store: MemoryStore, key: string): Record<string, any> => JSON.parse(new TextDecoder().decode(store.map.get(key)));

test('checkJson names the path of the first value that is not JSON', (t) => {
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  const cases: Array<[unknown, RegExp]> = [
    [{ stage: { x: Number.NaN } }, /^attributes\.stage\.x must be JSON \(a finite number\), got NaN$/],
    [{ stage: { x: Infinity } }, /^attributes\.stage\.x must be JSON/],
    [{ a: undefined }, /^attributes\.a must be JSON .*got undefined$/],
    [{ a: [1, () => 2] }, /^attributes\.a\[1\] must be JSON/],
    [{ a: 10n }, /^attributes\.a must be JSON .*got 10n$/],
    [{ a: new Date(0) }, /^attributes\.a must be JSON \(a plain object, not a class instance\)/],
    [{ a: [1, , 3] }, /^attributes\.a\[1\] must be JSON \(a sparse array has holes\)/],
    [cycle, /^attributes\.self must be JSON \(without cycles\)/],
  ];
  for (const [value, message] of cases) t.throws(() => checkJson(value, 'attributes'), { message });
  // Shared (not cyclic) references are fine: JSON just repeats them.
  const shared = { x: 1 };
  t.notThrows(() => checkJson({ a: shared, b: [shared, null, true, 'text', -0.5] }, 'attributes'));
});

test('resolveAttributes: ome reserved in both versions, multiscales in v2; a copy is kept', (t) => {
  t.throws(() => resolveAttributes({ ome: {} }, 3), { message: /^attributes\.ome must be another key: "ome" is reserved/ });
  t.throws(() => resolveAttributes({ ome: {} }, 2), { message: /^attributes\.ome must be another key/ });
  t.throws(() => resolveAttributes({ multiscales: [] }, 2), { message: /^attributes\.multiscales must be another key: "multiscales" is reserved/ });
  t.deepEqual(resolveAttributes({ multiscales: 1 }, 3), { multiscales: 1 });
  t.throws(() => resolveAttributes([1], 3), { message: 'attributes must be a JSON object, got an array of 1' });
  const given = { stage: { x: 1 } };
  const kept = resolveAttributes(given, 3);
  given.stage.x = 2;
  t.deepEqual(kept, { stage: { x: 1 } });
});

test('the attributes option is checked before anything exists: an OptionError naming the field', (t) => {
  const store = new MemoryStore();
  const error = t.throws(() => zarrTransforms({ ...OPTIONS, store, attributes: { stage: { x: Number.NaN } } }), { instanceOf: OptionError });
  t.is(error?.field, 'attributes.stage.x');
  t.is(t.throws(() => zarrTransforms({ ...OPTIONS, store, attributes: { ome: 1 } }), { instanceOf: OptionError })?.field, 'attributes.ome');
  t.is(t.throws(() => zarrTransforms({ ...OPTIONS, store, zarrVersion: 2, attributes: { multiscales: 1 } }), { instanceOf: OptionError })?.field, 'attributes.multiscales');
  t.is(store.map.size, 0);
});

/** A MemoryStore that notes, for each group attributes write, what it held and how many frames the sink showed. */
class WatchedStore extends MemoryStore {
  readonly groupWrites: Array<{ frames: number; attributes: Record<string, any> }> = [];
  frames = (): number => 0;
  constructor(private readonly groupKey: string) {
    super();
  }
  override async set(key: string, value: Uint8Array): Promise<void> {
    await super.set(key, value);
    if (key !== this.groupKey) return;
    const document = JSON.parse(new TextDecoder().decode(value));
    this.groupWrites.push({ frames: this.frames(), attributes: key === 'zarr.json' ? document.attributes : document });
  }
}

for (const zarrVersion of [2, 3] as const) {
  test(`v${zarrVersion}: attributes beside the OME metadata, which still passes the strict schema; setAttributes at any time`, async (t) => {
    const store = new WatchedStore(zarrVersion === 2 ? '.zattrs' : 'zarr.json');
    const chain = zarrTransforms({ ...OPTIONS, store, zarrVersion, attributes: { stage: { x: 1.5, y: -2 }, operator: 'ada' } });
    const sink = sinkOf(chain);
    store.frames = () => sink.progress.frames[0]!;
    sink.setAttributes('before', true);
    const set = makeFrames(7, 16, 8, 1, 'uint16').frames;
    async function* frames() {
      for (const [index, frame] of set.entries()) {
        if (index === 3) sink.setAttributes('settings', { exposureMs: 10 });
        yield frame;
        // Lets each chunk row's metadata land before the next frame.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await pipeline(Readable.from(frames()), ...chain);
    const attributes = store.groupWrites.at(-1)!.attributes;
    t.deepEqual(attributes.stage, { x: 1.5, y: -2 });
    t.is(attributes.operator, 'ada');
    t.is(attributes.before, true);
    t.deepEqual(attributes.settings, { exposureMs: 10 });
    const { ok, errors } = zarrVersion === 2 ? validateV2(attributes) : validateV3(attributes);
    t.true(ok, errors);
    // Written with the metadata update that followed it, mid-stream, not only at the end; and once, not per frame.
    const withSettings = store.groupWrites.filter((write) => write.attributes.settings);
    t.true(withSettings[0]!.frames < 7, JSON.stringify(store.groupWrites.map((write) => write.frames)));
    t.is(withSettings.length, 1);
    t.throws(() => sink.setAttributes('late', 1), { message: /setAttributes\("late"\): the sink has (finished|closed)/ });
  });
}

test('setAttributes throws at once for a reserved key or a value that is not JSON, naming the key', (t) => {
  const sink = sinkOf(zarrTransforms({ ...OPTIONS, store: new MemoryStore() }));
  t.throws(() => sink.setAttributes('ome', {}), { message: /^setAttributes\.ome must be another key: "ome" is reserved/ });
  t.throws(() => sink.setAttributes('stage', { x: Number.NaN }), { message: /^setAttributes "stage"\.x must be JSON \(a finite number\), got NaN$/ });
  t.throws(() => sink.setAttributes('', 1), { message: /^setAttributes key must be a non-empty string/ });
  const value = { x: 1 };
  sink.setAttributes('stage', value);
  value.x = 2;
  sink.destroy();
});

test('a failed write leaves the attributes set so far in the final metadata', async (t) => {
  const store = new MemoryStore();
  const chain = zarrTransforms({ ...OPTIONS, store });
  const sink = sinkOf(chain);
  async function* frames() {
    const set = makeFrames(3, 16, 8, 1, 'uint16').frames;
    yield set[0];
    sink.setAttributes('aborted', { reason: 'stage fault' });
    yield set[1];
    throw new Error('camera lost');
  }
  await t.throwsAsync(pipeline(Readable.from(frames()), ...chain), { message: 'camera lost' });
  t.deepEqual(json(store, 'zarr.json').attributes.aborted, { reason: 'stage fault' });
});
