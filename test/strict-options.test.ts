/** Unknown option keys are refused by their dotted path with the closest known key, before anything exists. */
import test from 'ava';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { OptionError, type ZarrStreamOptions } from '../src/options.js';
import { closestName, editDistance } from '../src/util/edit-distance.js';
import { tempDir } from './helpers/frames.js';

const GOOD = { dtype: 'uint16', width: 16, height: 8 } as const;

const UNKNOWN: Array<[Record<string, unknown>, string, RegExp]> = [
  [{ multiScale: true }, 'multiScale', /multiScale is not an option \(did you mean multiscale\?\)/],
  [{ chunking: { tilewidth: 4 } }, 'chunking.tilewidth', /chunking\.tilewidth is not an option \(did you mean chunking\.tileWidth\?\)/],
  [{ compression: { codec: 'lz4', clevle: 3 } }, 'compression.clevle', /compression\.clevle is not an option \(did you mean compression\.clevel\?\)/],
  [{ pixelScaleUm: { x: 1, y: 1, z: 2 } }, 'pixelScaleUm.z', /pixelScaleUm\.z is not an option \(did you mean pixelScaleUm\.[xy]\?\)/],
  [{ frobnicate: 1 }, 'frobnicate', /^frobnicate is not an option; known: store, /],
];

for (const [patch, field, message] of UNKNOWN) {
  test(`unknown option ${field} is refused by name, nothing written`, async (t) => {
    const dir = await tempDir();
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const store = path.join(dir, 'out.zarr');
    const error = t.throws(() => zarrTransforms({ ...GOOD, store, ...patch } as ZarrStreamOptions), { instanceOf: OptionError, message });
    t.is(error!.field, field);
    t.false(existsSync(store));
  });
}

test('closestName: case first, then spelling; no hint when nothing is close', (t) => {
  t.is(editDistance('kitten', 'sitting'), 3);
  t.is(editDistance('', 'abc'), 3);
  t.is(closestName('multiScale', ['multiscale', 'name']), 'multiscale');
  t.is(closestName('tilewidth', ['tileWidth', 'tileHeight']), 'tileWidth');
  t.is(closestName('frobnicate', ['store', 'width']), undefined);
});
