#!/usr/bin/env node
// Compares a Zarr store in S3 with the same store written to a local directory: the same keys, and every object
// byte for byte equal to its file, except that a v3 shard's inner chunks may sit in another order (they are
// appended as the compression threads finish them), so a shard is compared inner chunk by inner chunk through
// both indexes. Used to check a server end to end with the CLI (synthetic frames and Blosc are deterministic),
// e.g. against scripts/ceph-rgw.sh:
//
//   node scripts/s3-compare.mjs http://127.0.0.1:7480 s3://bucket/run.zarr /tmp/run.zarr
//
// Credentials from the SDK's provider chain. Exits non-zero naming the first key that differs.
import { ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { endpointClient } from './s3-client.mjs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const [endpoint, url, dir] = process.argv.slice(2);
const match = /^s3:\/\/([^/]+)\/(.+?)\/?$/.exec(url ?? '');
if (!endpoint || !match || !dir) {
  console.error('usage: node scripts/s3-compare.mjs <endpoint> s3://bucket/prefix <local dir>');
  process.exit(2);
}
const [, Bucket, prefix] = match;
const client = endpointClient(endpoint);

function fail(message) {
  console.error(`s3-compare: ${message}`);
  process.exit(1);
}

const remote = new Map();
let ContinuationToken;
do {
  const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix + '/', ContinuationToken }));
  for (const { Key, Size } of page.Contents ?? []) remote.set(Key.slice(prefix.length + 1), Size);
  ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
} while (ContinuationToken);

const local = (await readdir(dir, { recursive: true, withFileTypes: true }))
  .filter((entry) => entry.isFile())
  .map((entry) => path.relative(dir, path.join(entry.parentPath ?? entry.path, entry.name)).split(path.sep).join('/'))
  .sort();
const remoteKeys = [...remote.keys()].sort();
if (local.join('\n') !== remoteKeys.join('\n')) {
  fail(`keys differ: local [${local.join(', ')}], s3://${Bucket}/${prefix}/ [${remoteKeys.join(', ')}]`);
}

/** Inner chunks per shard and the index's size, when `key` is a shard of a v3 array with the index at the end. */
async function shardLayout(key) {
  const at = key.indexOf('/c/');
  if (at < 0) return undefined;
  let meta;
  try {
    meta = JSON.parse(await readFile(path.join(dir, key.slice(0, at), 'zarr.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const codec = meta.codecs?.[0];
  if (codec?.name !== 'sharding_indexed' || codec.configuration.index_location !== 'end') return undefined;
  const shard = meta.chunk_grid.configuration.chunk_shape;
  const inner = codec.configuration.chunk_shape;
  const count = shard.reduce((n, size, i) => n * Math.ceil(size / inner[i]), 1);
  const crc = codec.configuration.index_codecs.some((c) => c.name === 'crc32c') ? 4 : 0;
  return { count, indexBytes: count * 16 + crc };
}

/** Why shards `got` and `want` hold different chunks, or undefined when every inner chunk is equal. */
function shardDifference(got, want, { count, indexBytes }) {
  if (got.length !== want.length) return `${got.length} bytes in S3, ${want.length} on disk`;
  if (got.length < indexBytes) return `${got.length} bytes, less than the ${indexBytes}-byte index`;
  const gotIndex = got.subarray(got.length - indexBytes);
  const wantIndex = want.subarray(want.length - indexBytes);
  const absent = 0xffffffffffffffffn;
  for (let i = 0; i < count; i++) {
    const g = [gotIndex.readBigUInt64LE(16 * i), gotIndex.readBigUInt64LE(16 * i + 8)];
    const w = [wantIndex.readBigUInt64LE(16 * i), wantIndex.readBigUInt64LE(16 * i + 8)];
    if ((g[0] === absent) !== (w[0] === absent)) return `inner chunk ${i} present in one copy only`;
    if (g[0] === absent) continue;
    const slice = (buf, [offset, nbytes]) => buf.subarray(Number(offset), Number(offset + nbytes));
    if (!slice(got, g).equals(slice(want, w))) return `inner chunk ${i} differs`;
  }
  return undefined;
}

let bytes = 0;
let reordered = 0;
for (const key of local) {
  const want = await readFile(path.join(dir, key));
  const out = await client.send(new GetObjectCommand({ Bucket, Key: `${prefix}/${key}` }));
  const got = Buffer.from(await out.Body.transformToByteArray());
  if (!got.equals(want)) {
    const layout = await shardLayout(key);
    const why = layout ? shardDifference(got, want, layout) : `${got.length} bytes in S3 differ from the ${want.length} on disk`;
    if (why) fail(`${prefix}/${key} vs ${dir}/${key}: ${why}`);
    reordered++;
  }
  bytes += got.length;
}
client.destroy();
console.log(`s3-compare: ${local.length} objects, ${bytes} bytes identical (${reordered} shards with their chunks in another order)`);
