#!/usr/bin/env node
// Checks that an S3 endpoint does what zarr-stream's S3Store relies on, byte for byte, with the SDK the project uses:
// a bucket, PutObject/GetObject, a multipart upload of two 5 MiB parts (uploaded in reverse order, as S3Store does
// when a chunk's first part waits for its header), AbortMultipartUpload leaving nothing behind, and DeleteObjects.
//
//   node scripts/s3-smoke.mjs http://127.0.0.1:7480 [bucket]
//
// Credentials come from the SDK's provider chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, e.g. from
// scripts/ceph-rgw.sh's env file). Exits non-zero with the step that failed.
import {
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  DeleteObjectsCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { endpointClient } from './s3-client.mjs';

const endpoint = process.argv[2] ?? process.env.CEPH_RGW_ENDPOINT;
const Bucket = process.argv[3] ?? 'smoke';
if (!endpoint) {
  console.error('usage: node scripts/s3-smoke.mjs <endpoint> [bucket]');
  process.exit(2);
}
const client = endpointClient(endpoint);

async function step(name, fn) {
  const t0 = performance.now();
  try {
    await fn();
  } catch (err) {
    console.error(`s3-smoke: ${name} failed: ${err.name}: ${err.message}`);
    process.exit(1);
  }
  console.log(`s3-smoke: ${name} ok (${(performance.now() - t0).toFixed(0)} ms)`);
}

async function getBytes(Key) {
  const out = await client.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(await out.Body.transformToByteArray());
}

function same(what, got, want) {
  if (!got.equals(want)) throw new Error(`${what}: read back ${got.length} bytes differing from the ${want.length} written`);
}

const MiB = 1 << 20;
const small = randomBytes(1000);
const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB)];

await step('create bucket', () => client.send(new CreateBucketCommand({ Bucket })));
await step('put + get', async () => {
  await client.send(new PutObjectCommand({ Bucket, Key: 'small.bin', Body: small }));
  same('small.bin', await getBytes('small.bin'), small);
});
await step('multipart 2 x 5 MiB, parts sent last first', async () => {
  const Key = 'multi.bin';
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const etags = [];
  for (const i of [1, 0]) {
    const { ETag } = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: parts[i] }));
    etags[i] = ETag;
  }
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key,
      UploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
  same(Key, await getBytes(Key), Buffer.concat(parts));
});
await step('abort multipart leaves nothing', async () => {
  const Key = 'aborted.bin';
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: parts[0] }));
  await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: Key }));
  if ((listed.KeyCount ?? 0) !== 0) throw new Error(`${Key} listed after the abort`);
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket }));
  if ((uploads.Uploads ?? []).some((u) => u.UploadId === UploadId)) throw new Error(`upload ${UploadId} still listed`);
});
await step('delete objects', async () => {
  await client.send(
    new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'small.bin' }, { Key: 'multi.bin' }] } }),
  );
  const listed = await client.send(new ListObjectsV2Command({ Bucket }));
  if ((listed.KeyCount ?? 0) !== 0) throw new Error(`${listed.KeyCount} objects left after DeleteObjects`);
});
client.destroy();
