#!/usr/bin/env node
// What an S3 endpoint takes from a plain multipart upload: the benchmark's own upload code (bench/s3.ts,
// plainMultipart: 5 MiB parts, zarr-stream's default number of requests in flight), a few rounds of the same
// bytes, MB/s (10^6 bytes) per round. Run `npx tsc -p tsconfig.json` first (it imports dist/bench/s3.js).
//
//   node scripts/s3-throughput.mjs http://127.0.0.1:7480 [MiB per round, 512] [objects, 16] [rounds, 3]
//
// Credentials from the SDK's provider chain. Each round's objects are deleted before the next.
import { randomFillSync } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { benchClient, BENCH_BUCKET, deletePrefix, plainMultipart, UPLOAD_CONCURRENCY } from '../dist/bench/s3.js';

const [endpoint, mib = '512', objects = '16', rounds = '3'] = process.argv.slice(2);
if (!endpoint) {
  console.error('usage: node scripts/s3-throughput.mjs <endpoint> [MiB] [objects] [rounds]');
  process.exit(2);
}
const total = Number(mib) * 2 ** 20;
const count = Number(objects);
const sizes = Array.from({ length: count }, () => Math.floor(total / count));
// Random bytes, so no layer can shortcut them; made before the clock starts.
const data = randomFillSync(new Uint8Array(sizes[0]));

const client = benchClient(endpoint);
try {
  await client.send(new CreateBucketCommand({ Bucket: BENCH_BUCKET }));
} catch (err) {
  if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
}
for (let round = 1; round <= Number(rounds); round++) {
  const prefix = `throughput-${round}`;
  const t0 = performance.now();
  await plainMultipart(client, prefix, sizes, data);
  const seconds = (performance.now() - t0) / 1000;
  const bytes = sizes.reduce((a, b) => a + b, 0);
  console.log(
    `s3-throughput: round ${round}: ${count} objects, ${(bytes / 2 ** 20).toFixed(0)} MiB in ${seconds.toFixed(2)} s = ` +
      `${(bytes / 1e6 / seconds).toFixed(1)} MB/s (${UPLOAD_CONCURRENCY} requests in flight)`,
  );
  await deletePrefix(client, prefix);
}
client.destroy();
