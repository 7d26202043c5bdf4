/**
 * The (t, c, y, x) shorthand (width, height, planes, chunking) must keep writing exactly the bytes it wrote before
 * arrays became N-D `dimensions`: every key's SHA-256 is compared with test/fixtures/shorthand-golden.json, recorded
 * from the code as it was before that change (commit 161ec81). Regenerate only for a deliberate format change:
 * `ZARR_STREAM_RECORD_GOLDEN=1 npx ava dist/test/shorthand-golden.test.js`.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { MemoryStore, zarrTransforms, type ZarrStreamOptions } from '../src/index.js';
import { makeFrames, source } from './helpers/frames.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'shorthand-golden.json');

type Case = Omit<ZarrStreamOptions, 'store'> & { frames: number };

// Ragged edges in c, y and x, a partial last chunk row, every code path of the chain (parts, regions, whole, shards).
const CASES: Record<string, Case> = {
  'v2 raw': { zarrVersion: 2, dtype: 'uint16', width: 37, height: 29, planes: 3, frames: 10, chunking: { tileWidth: 16, tileHeight: 16, tilePlanes: 2, framesPerChunk: 4 } },
  'v3 lz4 streamed, multiscale': {
    zarrVersion: 3, dtype: 'uint16', width: 37, height: 29, planes: 3, frames: 10, multiscale: true,
    compression: { codec: 'lz4', clevel: 1, shuffle: 'byte' }, chunking: { tileWidth: 16, tileHeight: 16, tilePlanes: 2, framesPerChunk: 4 },
  },
  'v2 zstd whole chunks': {
    zarrVersion: 2, dtype: 'uint8', width: 40, height: 24, planes: 1, frames: 7,
    compression: { codec: 'zstd', clevel: 3, shuffle: 'bit', streamBlocks: false }, chunking: { tileWidth: 16, tileHeight: 16, framesPerChunk: 3 },
  },
  'v3 sharded lz4': {
    zarrVersion: 3, dtype: 'int16', width: 37, height: 29, planes: 2, frames: 9, shardChunks: [2, 1, 2, 2],
    compression: { codec: 'lz4' }, chunking: { tileWidth: 16, tileHeight: 16, tilePlanes: 1, framesPerChunk: 2 },
  },
};

async function digest(options: Case): Promise<Record<string, string>> {
  const store = new MemoryStore();
  const { frames, ...rest } = options;
  const set = makeFrames(frames, rest.width!, rest.height!, rest.planes ?? 1, rest.dtype);
  await pipeline(source(set.frames), ...zarrTransforms({ ...rest, store, engine: 'native', workers: 2 }));
  const out: Record<string, string> = {};
  const slots = options.shardChunks ? options.shardChunks.reduce((a, b) => a * b, 1) : 0;
  for (const key of [...store.map.keys()].sort()) {
    const value = store.map.get(key)!;
    // A shard's chunks are appended in the order they finish compressing (threads): compare them by index slot.
    out[key] = slots > 0 && key.includes('/c/') ? shardDigest(value, slots) : sha256(value);
  }
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The digest of each index slot's chunk (or "absent"), in slot order: independent of the order chunks were appended. */
function shardDigest(shard: Uint8Array, slots: number): string {
  const view = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
  const index = shard.byteLength - (16 * slots + 4);
  const parts: string[] = [];
  for (let slot = 0; slot < slots; slot++) {
    const offset = view.getBigUint64(index + 16 * slot, true);
    const nbytes = view.getBigUint64(index + 16 * slot + 8, true);
    parts.push(offset === 2n ** 64n - 1n ? 'absent' : sha256(shard.subarray(Number(offset), Number(offset + nbytes))));
  }
  return sha256(new TextEncoder().encode(parts.join(',')));
}

if (process.env.ZARR_STREAM_RECORD_GOLDEN) {
  test.serial('record the golden digests', async (t) => {
    const all: Record<string, Record<string, string>> = {};
    for (const [name, options] of Object.entries(CASES)) all[name] = await digest(options);
    writeFileSync(FIXTURE, JSON.stringify(all, null, 1) + '\n');
    t.pass();
  });
} else {
  const golden = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Record<string, string>>;
  for (const [name, options] of Object.entries(CASES)) {
    test(`shorthand writes the same bytes as before N-D dimensions: ${name}`, async (t) => {
      t.deepEqual(await digest(options), golden[name]);
    });
  }
}
