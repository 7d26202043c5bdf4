/**
 * Source values shaped like the chain's internal messages (`{ kind: 'frame', t, bytes, ... }`) are validated like any
 * other value: the chain numbers frames itself, so a repeated index cannot overwrite a stored frame.
 */
import test from 'ava';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { FrameMismatchError, normalizeFrame } from '../src/frames/normalize.js';
import { TileSplitter } from '../src/transforms/tile-splitter.js';
import { resolveLayout } from '../src/chunking/layout.js';
import { firstDifference, frameBytes, makeFrames, source, tempDir } from './helpers/frames.js';
import { openWithZarrita, readWithZarrita } from './helpers/readers.js';

const SHAPE = { width: 16, height: 8, planes: 1, dtype: 'uint16' } as const;

/** A value shaped like an internal FrameMessage, carrying frame `of`'s pixels and claiming index `t`. */
function lookAlike(bytes: Uint8Array, t: number, level = 0) {
  return { kind: 'frame', level, t, width: SHAPE.width, height: SHAPE.height, planes: 1, dtype: SHAPE.dtype, bytes };
}

for (const [label, claim] of [
  ['a repeated index (t: 0 again)', { t: 0 }],
  ['an index far ahead (t: 5)', { t: 5 }],
  ['a pyramid level (level: 1)', { t: 1, level: 1 }],
] as const) {
  for (const multiscale of [false, true]) {
    test(`a message-shaped source value with ${label} is refused as a frame${multiscale ? ' (multiscale)' : ''}; frame 0 stays exact`, async (t) => {
      const dir = await tempDir();
      try {
        const store = path.join(dir, 'lookalike.zarr');
        const set = makeFrames(3, SHAPE.width, SHAPE.height, 1, SHAPE.dtype);
        const items = [set.frames[0], lookAlike(frameBytes(set.frames[1]!), claim.t, 'level' in claim ? claim.level : 0), set.frames[2]];
        const chain = zarrTransforms({ store, zarrVersion: 2, ...SHAPE, multiscale, chunking: { tileWidth: 8, tileHeight: 8, framesPerChunk: 1 } });
        const error = await t.throwsAsync(pipeline(source(items), ...chain), { instanceOf: FrameMismatchError });
        t.is(error?.frameIndex, 1);
        t.regex(error!.message, /frame 1: expected a Frame object or a TypedArray .*kind "frame" is not accepted from a source/);
        // The store is final when pipeline() rejects (issue 9, defect 5): read it right away.
        const claimed = (await openWithZarrita(store)).shape[0]!;
        t.true(claimed <= 1, `metadata claims ${claimed} frames`);
        if (claimed === 1) t.is(firstDifference((await readWithZarrita(store)).bytes, frameBytes(set.frames[0]!)), -1, 'frame 0');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
}

test('a TileSplitter on its own validates message-shaped values too (wrong shape, wrong byte length)', async (t) => {
  const layouts = [resolveLayout(SHAPE, SHAPE.dtype, { tileWidth: 8, tileHeight: 8 }).layout];
  for (const bad of [
    { ...lookAlike(new Uint8Array(SHAPE.width * SHAPE.height * 2), 0), width: 32 },
    lookAlike(new Uint8Array(3), 0),
  ]) {
    const splitter = new TileSplitter({ layouts });
    splitter.resume();
    await t.throwsAsync(pipeline(source([bad]), splitter), { instanceOf: FrameMismatchError });
  }
});

test('source values that are no frame at all (a bigint, a symbol, a function) are FrameMismatchErrors naming them', (t) => {
  for (const [value, text] of [[10n, 'bigint 10n'], [Symbol('frame'), 'symbol Symbol(frame)'], [() => 0, 'function () => 0']] as const) {
    const error = t.throws(() => normalizeFrame(value as never, 3, { ...SHAPE }), { instanceOf: FrameMismatchError });
    t.is(error?.frameIndex, 3);
    t.true(error!.message.endsWith(`got ${text}`), error!.message);
  }
});
