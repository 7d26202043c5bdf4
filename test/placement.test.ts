/** Pure N-D arithmetic: dimensions validation, frame placement, open chunks and slab order. */
import test from 'ava';
import fc from 'fast-check';
import { resolveDimensions, type Dimension } from '../src/chunking/dimensions.js';
import { dimensionLevels } from '../src/chunking/dimension-layouts.js';
import { placeFrame, rowPrefixes } from '../src/chunking/placement.js';
import { OptionError } from '../src/option-error.js';

const five = (z = 5, chunkZ = 2): Dimension[] => [
  { name: 't', kind: 'time', size: 0, chunk: 2 },
  { name: 'c', kind: 'channel', size: 2, chunk: 1 },
  { name: 'z', kind: 'space', size: z, chunk: chunkZ },
  { name: 'y', kind: 'space', size: 9, chunk: 4 },
  { name: 'x', kind: 'space', size: 7, chunk: 4 },
];

function level0(dimensions: Dimension[], order?: string[]) {
  return dimensionLevels(resolveDimensions(dimensions, order), 'uint16', { multiscale: false, downsampleTime: false, maxLevels: 1 }).layouts[0]!;
}

test('orders OME-NGFF rejects are refused, naming what is wrong', (t) => {
  const swap = five();
  [swap[1], swap[2]] = [swap[2]!, swap[1]!];
  t.throws(() => resolveDimensions(swap, undefined), { instanceOf: OptionError, message: /space dimensions must all come last/ });
  t.throws(() => resolveDimensions(five().slice(1).concat([{ name: 'w', kind: 'space', size: 2, chunk: 1 }]), undefined), { message: /at most 3/ });
  t.throws(() => resolveDimensions([{ name: 'c', kind: 'channel', size: 0, chunk: 1 }, { name: 't', kind: 'time', size: 2, chunk: 1 }, ...five().slice(3)], undefined), { message: /time must come before/ });
  t.throws(() => resolveDimensions(five().map((d, i) => (i === 2 ? { ...d, unit: 'parsecs' } : d)), undefined), { message: /dimensions\[2\]\.unit.*parsecs/s });
  t.throws(() => resolveDimensions(five().map((d, i) => (i === 1 ? { ...d, size: 0 } : d)), undefined), { message: /dimensions\[1\]\.size/ });
  t.throws(() => resolveDimensions(five(), ['z', 't', 'c']), { instanceOf: OptionError, message: /acquisitionOrder/ });
  t.throws(() => resolveDimensions(five().map((d, i) => (i === 0 ? { ...d, shard: 1 } : d)), undefined), { message: /dimensions\[1\]\.shard/ });
  t.throws(() => resolveDimensions(five().map((d) => ({ ...d, chunks: 2 })), undefined), { message: /dimensions\[0\]\.chunks is not a dimension field/ });
});

test('placement: z inside c, chunks (2, 1, 2): positions, slots, the last slab of an edge chunk', (t) => {
  const layout = level0(five());
  t.is(layout.framesPerStep, 10);
  t.is(layout.slotsPerChunk, 4);
  t.true(layout.slotsInOrder);
  // Frame 4 is t 0, c 0, z 4: chunk (0, 0, 2), slot (t 0, z 0) = 0; the chunk has one z inside the array.
  t.like(placeFrame(layout, 4), { prefix: [0, 0, 2], slot: 0, lastSlot: 2, validSlots: 2, step: 0 });
  // Frame 14 is t 1, c 0, z 4: the same chunk's slot (t 1, z 0) = 2, its last.
  t.like(placeFrame(layout, 14), { prefix: [0, 0, 2], slot: 2, lastSlot: 2 });
  t.like(placeFrame(layout, 27), { prefix: [1, 1, 1], slot: 0, step: 2 });
  t.like(placeFrame(layout, 38), { prefix: [1, 1, 1], slot: 3, step: 3 });
  t.deepEqual(rowPrefixes(layout, 3), [[3, 0, 0], [3, 0, 1], [3, 0, 2], [3, 1, 0], [3, 1, 1], [3, 1, 2]]);
});

test('open chunks and slab order follow the acquisition order', (t) => {
  const tiles = 6;
  // t chunk 2 spans two steps: every outer chunk of the row stays open.
  t.is(level0(five()).openChunks, 6 * tiles);
  const oneStep = five().map((d, i) => (i === 0 ? { ...d, chunk: 1 } : d));
  t.is(level0(oneStep).openChunks, tiles);
  t.true(level0(oneStep, ['t', 'z', 'c']).slotsInOrder);
  // c inside z, chunk c 1: a z chunk of each channel is open at once.
  t.is(level0(oneStep, ['t', 'z', 'c']).openChunks, 2 * tiles);
  const wideC = oneStep.map((d, i) => (i === 1 ? { ...d, chunk: 2 } : d));
  t.false(level0(wideC, ['t', 'z', 'c']).slotsInOrder);
  t.true(level0(wideC).slotsInOrder);
});

test('property: every slab of every chunk gets exactly one frame, and in-order layouts see slots increase', (t) => {
  fc.assert(
    fc.property(
      fc.record({ chunkT: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 3 }), chunkC: fc.integer({ min: 1, max: 3 }), z: fc.integer({ min: 1, max: 5 }), chunkZ: fc.integer({ min: 1, max: 4 }), zFirst: fc.boolean() }),
      ({ chunkT, c, chunkC, z, chunkZ, zFirst }) => {
        const dimensions = five(z, chunkZ).map((d, i) => (i === 0 ? { ...d, chunk: chunkT } : i === 1 ? { ...d, size: c, chunk: chunkC } : d));
        const layout = level0(dimensions, zFirst ? ['t', 'z', 'c'] : ['t', 'c', 'z']);
        const seen = new Map<string, number[]>();
        const steps = chunkT * 2;
        for (let k = 0; k < steps * layout.framesPerStep; k++) {
          const p = placeFrame(layout, k);
          const key = p.prefix.join('/');
          const slots = seen.get(key) ?? [];
          if (layout.slotsInOrder && slots.length > 0 && slots.at(-1)! >= p.slot) return false;
          slots.push(p.slot);
          seen.set(key, slots);
          if (p.slot > p.lastSlot) return false;
        }
        for (const slots of seen.values()) {
          const p = new Set(slots);
          if (p.size !== slots.length || !slots.includes(Math.max(...slots))) return false;
        }
        return seen.size === 2 * Math.ceil(c / Math.min(chunkC, c)) * Math.ceil(z / Math.min(chunkZ, z));
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

test('property: the chunks open at once never exceed layout.openChunks (the pools are sized by it: more would wait forever)', (t) => {
  fc.assert(
    fc.property(
      fc.record({
        chunkT: fc.integer({ min: 1, max: 3 }),
        c: fc.integer({ min: 1, max: 4 }),
        chunkC: fc.integer({ min: 1, max: 3 }),
        z: fc.integer({ min: 1, max: 6 }),
        chunkZ: fc.integer({ min: 1, max: 4 }),
        zFirst: fc.boolean(),
      }),
      ({ chunkT, c, chunkC, z, chunkZ, zFirst }) => {
        const dimensions = five(z, chunkZ).map((d, i) => (i === 0 ? { ...d, chunk: chunkT } : i === 1 ? { ...d, size: c, chunk: chunkC } : d));
        const layout = level0(dimensions, zFirst ? ['t', 'z', 'c'] : ['t', 'c', 'z']);
        const counts = new Map<string, number>();
        let open = 0;
        let most = 0;
        for (let k = 0; k < 2 * chunkT * layout.framesPerStep; k++) {
          const p = placeFrame(layout, k);
          const key = p.prefix.join('/');
          const count = (counts.get(key) ?? 0) + 1;
          if (count === 1) open++;
          if (count === p.validSlots) open--;
          counts.set(key, count);
          most = Math.max(most, open);
        }
        return most * layout.tilesPerFrame <= layout.openChunks;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});
