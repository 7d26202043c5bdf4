/**
 * Pairing by position (src/downsample/pairing.ts) and the PyramidBuilder that follows it, checked exhaustively on
 * small shapes against definitions written here from the rule, not from the code: a frame's position is the mixed-
 * radix digits of its ordinal in acquisition order; level l+1's frame at position q is made of the level-l frames at
 * q with the halved coordinate 2q_h and 2q_h + 1 (those that exist and arrived); level l+1's frames must come out
 * in level l+1's acquisition order, for a whole stream and for every prefix of one.
 */
import test from 'ava';
import fc from 'fast-check';
import {
  CONSECUTIVE_PAIRING,
  PairingCursor,
  assertPairingChain,
  assertPairingSpec,
  maxPending,
  nextLevelSizes,
  pairStep,
  positionOf,
  type PairingSpec,
} from '../src/downsample/pairing.js';
import { PyramidBuilder } from '../src/downsample/pyramid.js';
import type { Reducer } from '../src/downsample/reduce.js';

/** Time points streamed per case: 3, so that halving the append dimension leaves one unpaired at the end. */
const T = 3;

function permutations(items: number[]): number[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/** Every spec with up to `maxOuter` outer dimensions of sizes 1..`maxSize`, every acquisition order, every halved. */
function allSpecs(maxOuter: number, maxSize: number): PairingSpec[] {
  const specs: PairingSpec[] = [];
  const outerSizes = (n: number): number[][] => (n === 0 ? [[]] : outerSizes(n - 1).flatMap((rest) => Array.from({ length: maxSize }, (_, s) => [...rest, s + 1])));
  for (let n = 0; n <= maxOuter; n++) {
    for (const outer of outerSizes(n)) {
      for (const order of permutations(outer.map((_, i) => i + 1))) {
        for (let halved = -1; halved <= n; halved++) specs.push({ sizes: [0, ...outer], acquisition: [0, ...order], halved });
      }
    }
  }
  return specs;
}

const describe = (spec: PairingSpec) => `sizes [${spec.sizes}] acquisition [${spec.acquisition}] halved ${spec.halved}`;
const framesPer = (spec: PairingSpec) => spec.sizes.slice(1).reduce((a, b) => a * b, 1);

/** The ordinal of a storage-order position: digits in acquisition order, the append index outermost. */
function ordinalOf(spec: PairingSpec, position: readonly number[]): number {
  return spec.acquisition.reduce((ordinal, d, i) => (i === 0 ? position[0]! : ordinal * spec.sizes[d]! + position[d]!), 0);
}

/** The level-l ordinals (below `arrived`) that make level l+1's frame `i`, from the rule alone. */
function sourcesOf(spec: PairingSpec, i: number, arrived: number): number[] {
  const next = { ...spec, sizes: nextLevelSizes(spec) };
  const q = positionOf(next, i);
  const h = spec.halved;
  const coordinates = h < 0 ? [q] : [2 * q[h]!, 2 * q[h]! + 1].filter((c) => h === 0 || c < spec.sizes[h]!).map((c) => q.map((v, d) => (d === h ? c : v)));
  return coordinates.map((p) => ordinalOf(spec, p)).filter((k) => k < arrived);
}

/** How many level l+1 frames `arrived` level-l frames make: those with a source among them (a prefix, by the rule). */
function outputCount(spec: PairingSpec, arrived: number): number {
  let i = 0;
  while (sourcesOf(spec, i, arrived).length > 0) i++;
  return i;
}

test('positionOf counts positions in acquisition order, innermost fastest', (t) => {
  const spec = { sizes: [0, 2, 3], acquisition: [0, 2, 1], halved: 2 }; // (t, c, z) acquired t, z, c
  t.deepEqual(
    Array.from({ length: 7 }, (_, k) => positionOf(spec, k)),
    [[0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1], [0, 0, 2], [0, 1, 2], [1, 0, 0]],
  );
});

test('pairStep: keys equal exactly when positions differ at most in the halved coordinate; roles by the halved coordinate', (t) => {
  for (const spec of allSpecs(2, 3)) {
    const n = T * framesPer(spec);
    const steps = Array.from({ length: n }, (_, k) => pairStep(spec, k));
    const positions = Array.from({ length: n }, (_, k) => positionOf(spec, k));
    for (let a = 0; a < n; a++) {
      t.is(ordinalOf(spec, positions[a]!), a, describe(spec));
      for (let b = 0; b < n; b++) {
        const sameBut = positions[a]!.every((c, d) => d === spec.halved || c === positions[b]![d]);
        if (sameBut !== (steps[a]!.key === steps[b]!.key)) t.fail(`${describe(spec)}: ordinals ${a}, ${b}: keys ${steps[a]!.key}, ${steps[b]!.key}`);
      }
      const h = spec.halved;
      const c = positions[a]![h]!;
      const want = h < 0 || (h > 0 && spec.sizes[h]! % 2 === 1 && c === spec.sizes[h]! - 1) ? 'single' : c % 2 === 0 ? 'first' : 'second';
      if (steps[a]!.role !== want) t.fail(`${describe(spec)}: ordinal ${a}: role ${steps[a]!.role}, want ${want}`);
    }
  }
  t.pass();
});

test('the default pairing is today\'s: key 0, first and second alternating, never single mid-stream', (t) => {
  t.deepEqual(
    Array.from({ length: 5 }, (_, k) => pairStep(CONSECUTIVE_PAIRING, k)),
    [0, 1, 2, 3, 4].map((k) => ({ key: 0, role: k % 2 ? 'second' : 'first' })),
  );
  t.is(maxPending(CONSECUTIVE_PAIRING), 1);
});

test('PairingCursor steps through the same keys and roles as pairStep', (t) => {
  const check = (spec: PairingSpec, n: number): void => {
    const cursor = new PairingCursor(spec);
    for (let k = 0; k < n; k++, cursor.next()) {
      const want = pairStep(spec, k);
      if (cursor.key !== want.key || cursor.role !== want.role) t.fail(`${describe(spec)}: ordinal ${k}: cursor {${cursor.key}, ${cursor.role}}, want {${want.key}, ${want.role}}`);
    }
  };
  for (const spec of allSpecs(2, 3)) check(spec, T * framesPer(spec));
  fc.assert(fc.property(specArbitrary(), (spec) => check(spec, T * framesPer(spec))), { numRuns: 100 });
  t.pass();
});

test('maxPending is the most first frames waiting for their partners at once', (t) => {
  for (const spec of allSpecs(2, 3)) {
    const waiting = new Set<number>();
    let most = 0;
    for (let k = 0; k < T * framesPer(spec); k++) {
      const { key, role } = pairStep(spec, k);
      if (role === 'first') waiting.add(key);
      if (role === 'second') t.true(waiting.delete(key), `${describe(spec)}: ordinal ${k} pairs with nothing`);
      most = Math.max(most, waiting.size);
    }
    t.is(maxPending(spec), most, describe(spec));
  }
});

/**
 * Streams frames 0..arrived-1 of 1x1 uint32 frames holding their own ordinal through a 3-level PyramidBuilder with
 * `method`, recording each output and how many frames had arrived when it came out ('end': at finish()).
 */
async function runBuilder(pairing: PairingSpec[], arrived: number, method: 'min' | 'max'): Promise<Array<Array<{ value: number; at: number | 'end' }>>> {
  const out: Array<Array<{ value: number; at: number | 'end' }>> = [[], [], []];
  let at: number | 'end' = 0;
  const shape = { width: 1, height: 1, planes: 1 };
  const builder = new PyramidBuilder([shape, shape, shape], 'uint32', method, (level, k, pixels) => {
    if (k !== out[level]!.length) throw new Error(`level ${level}: t ${k} after ${out[level]!.length} frames`);
    out[level]!.push({ value: (pixels as Uint32Array)[0]!, at });
  }, { pairing });
  for (let k = 0; k < arrived; k++) {
    at = k;
    await builder.add(Uint32Array.of(k));
  }
  at = 'end';
  await builder.finish();
  return out;
}

/** Checks both levels of a 3-level pyramid made of every prefix (or `prefixes`) of a stream under `spec`. */
async function checkPyramid(t: import('ava').ExecutionContext, spec: PairingSpec, prefixes?: number[]): Promise<void> {
  const upper = { ...spec, sizes: nextLevelSizes(spec) };
  const all = T * framesPer(spec);
  for (const arrived of prefixes ?? Array.from({ length: all + 1 }, (_, n) => n)) {
    const [mins, maxes] = await Promise.all([runBuilder([spec, upper], arrived, 'min'), runBuilder([spec, upper], arrived, 'max')]);
    const where = `${describe(spec)}, ${arrived} frames`;
    // Level 1: output i is its sources; out as soon as its last source arrives, or at the end if one never did.
    const n1 = outputCount(spec, arrived);
    const sources1 = Array.from({ length: n1 }, (_, i) => sourcesOf(spec, i, arrived));
    t.is(mins[1]!.length, n1, `${where}: level 1 count`);
    sources1.forEach((sources, i) => {
      const complete = sources.length === sourcesOf(spec, i, Infinity).length;
      const want = { min: Math.min(...sources), max: Math.max(...sources), at: complete ? Math.max(...sources) : 'end' };
      const got = { min: mins[1]![i]!.value, max: maxes[1]![i]!.value, at: maxes[1]![i]!.at };
      if (got.min !== want.min || got.max !== want.max || got.at !== want.at) t.fail(`${where}: level 1 frame ${i}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    });
    // Level 2 from level 1 by the same rule: its sources' level-0 sources.
    const n2 = outputCount(upper, n1);
    t.is(mins[2]!.length, n2, `${where}: level 2 count`);
    for (let j = 0; j < n2; j++) {
      const sources = sourcesOf(upper, j, n1).flatMap((i) => sources1[i]!);
      const want = { min: Math.min(...sources), max: Math.max(...sources) };
      const got = { min: mins[2]![j]!.value, max: maxes[2]![j]!.value };
      if (got.min !== want.min || got.max !== want.max) t.fail(`${where}: level 2 frame ${j}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
  }
}

test('PyramidBuilder: every level comes out in the next level\'s acquisition order, whole streams and every prefix (up to 2 outer dims)', async (t) => {
  for (const spec of allSpecs(2, 3)) await checkPyramid(t, spec);
  t.pass();
});

function specArbitrary(): fc.Arbitrary<PairingSpec> {
  return fc
    .array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 })
    .chain((outer) =>
      fc.record({
        sizes: fc.constant([0, ...outer]),
        acquisition: fc.shuffledSubarray([1, 2, 3], { minLength: 3, maxLength: 3 }).map((order) => [0, ...order]),
        halved: fc.integer({ min: -1, max: 3 }),
      }),
    );
}

test('PyramidBuilder: the same with 3 outer dims (fast-check: random sizes, orders, halved dim and prefix)', async (t) => {
  await fc.assert(
    fc.asyncProperty(specArbitrary(), fc.double({ min: 0, max: 1, noNaN: true }), async (spec, cut) => {
      await checkPyramid(t, spec, [Math.floor(cut * T * framesPer(spec))]);
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('pending memory is reused: a level allocates at most max(1, maxPending) states, however long the stream', async (t) => {
  const shapes = [8, 4, 2].map((side) => ({ width: side, height: side, planes: 1 }));
  for (const order of [[0, 1, 2], [0, 2, 1]]) {
    const pairing = [{ sizes: [0, 2, 5], acquisition: order, halved: 2 }, { sizes: [0, 2, 3], acquisition: order, halved: 2 }];
    const builder = new PyramidBuilder(shapes, 'uint16', 'mean', () => undefined, { pairing });
    // White-box: count the begin() calls that get no spare memory, i.e. allocate, per level (by frame width).
    const reducer = (builder as unknown as { reducer: Reducer }).reducer;
    const begin = reducer.begin.bind(reducer);
    const fresh = new Map<number, number>();
    (reducer as { begin: Reducer['begin'] }).begin = (src, shape, spare) => {
      if (!spare) fresh.set(shape.width, (fresh.get(shape.width) ?? 0) + 1);
      return begin(src, shape, spare);
    };
    for (let k = 0; k < 10 * 2 * 5; k++) await builder.add(new Uint16Array(64).fill(k));
    await builder.finish();
    t.deepEqual([...fresh.entries()], [[8, Math.max(1, maxPending(pairing[0]!))], [4, Math.max(1, maxPending(pairing[1]!))]], `acquired [${order}]`);
  }
});

test('bad specs are refused naming the field and the value', (t) => {
  const ok = { sizes: [0, 2, 5], acquisition: [0, 1, 2], halved: 2 };
  t.notThrows(() => assertPairingSpec(ok));
  t.throws(() => assertPairingSpec({ ...ok, sizes: [0, 2, 0] }), { message: /pairing\.sizes\[2\] must be a positive integer; got 0/ });
  t.throws(() => assertPairingSpec({ ...ok, acquisition: [1, 0, 2] }), { message: /pairing\.acquisition must list each index 0\.\.2 of sizes once, 0 .* first; got \[1,0,2\]/ });
  t.throws(() => assertPairingSpec({ ...ok, acquisition: [0, 1, 1] }), { message: /pairing\.acquisition/ });
  t.throws(() => assertPairingSpec({ ...ok, halved: 3 }), { message: /pairing\.halved must be an index of sizes \(0\.\.2\) or -1 \(none\); got 3/ });
  t.throws(() => assertPairingChain([ok], 3), { message: /pairing must hold one spec per level transition \(2 for 3 levels\); got 1 specs/ });
  t.throws(() => assertPairingChain([ok, { ...ok, sizes: [0, 2, 5] }], 3), { message: /pairing\[1\]\.sizes must be \[\*, 2, 3\]/ });
  t.throws(() => assertPairingChain([ok, { ...ok, sizes: [0, 2, 3], acquisition: [0, 2, 1] }], 3), { message: /pairing\[1\]\.acquisition must equal pairing\[0\]\.acquisition/ });
  t.notThrows(() => assertPairingChain([ok, { ...ok, sizes: [0, 2, 3] }], 3));
});
