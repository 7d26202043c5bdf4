/**
 * The S3 part of the benchmark: a loopback fauxqs server started by the runner (--s3), the objects a write left
 * under a prefix, and the plain multipart upload that zarr-stream's S3 writes are measured against.
 */
import {
  S3Client,
  CreateBucketCommand,
  ListObjectsV2Command,
  DeleteObjectsCommand,
  PutObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { clientConfig, resolveS3Options } from '../src/stores/s3-settings.js';
import { MIN_PART_BYTES } from '../src/stores/s3-writer.js';
import { Semaphore } from '../src/util/semaphore.js';

export const BENCH_BUCKET = 'bench';
/** zarr-stream's default maxConcurrentUploads: the plain upload gets the same number of requests in flight. */
export const UPLOAD_CONCURRENCY = resolveS3Options({}).maxConcurrentUploads;

/** Fake credentials for the loopback server, set before the workers are spawned (they inherit them). */
export function useFakeCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIAZSBENCHKEYID1234';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'zsBenchSecret/notReal+0123456789abcdefgh';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}

export function benchClient(endpoint: string): S3Client {
  return new S3Client(clientConfig(resolveS3Options({ endpoint })));
}

/** fauxqs in this process on 127.0.0.1 (a free port), with the bench bucket. */
export async function startServer(): Promise<{ endpoint: string; client: S3Client; stop(): Promise<void> }> {
  useFakeCredentials();
  const { startFauxqs } = await import('fauxqs');
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = benchClient(endpoint);
  await client.send(new CreateBucketCommand({ Bucket: BENCH_BUCKET }));
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

/** The sizes of the objects under `prefix/`. */
export async function objectSizes(client: S3Client, prefix: string): Promise<number[]> {
  const sizes: number[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BENCH_BUCKET, Prefix: prefix + '/', ContinuationToken }));
    for (const { Size } of page.Contents ?? []) sizes.push(Size ?? 0);
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return sizes;
}

/** Deletes what a write left under `prefix/`, so the in-memory server does not grow from round to round. */
export async function deletePrefix(client: S3Client, prefix: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BENCH_BUCKET, Prefix: prefix + '/' }));
    const Objects = (page.Contents ?? []).map(({ Key }) => ({ Key }));
    if (Objects.length === 0) return;
    await client.send(new DeleteObjectsCommand({ Bucket: BENCH_BUCKET, Delete: { Objects } }));
  }
}

/**
 * Objects of the given sizes uploaded as a plain SDK user would: one PutObject for a value under two parts (as
 * zarr-stream does), otherwise a multipart upload in 5 MiB parts, at most UPLOAD_CONCURRENCY requests in flight over
 * all objects. The bodies are views of `data` (the raw frames), so no bytes are made on the clock.
 */
export async function plainMultipart(client: S3Client, prefix: string, sizes: number[], data: Uint8Array): Promise<void> {
  const slots = new Semaphore(UPLOAD_CONCURRENCY);
  let offset = 0;
  const body = (bytes: number): Uint8Array => {
    if (offset + bytes > data.byteLength) offset = 0;
    const view = data.subarray(offset, offset + bytes);
    offset += bytes;
    return view;
  };
  await Promise.all(
    sizes.map(async (size, i) => {
      const Key = `${prefix}/object-${i}`;
      if (size < 2 * MIN_PART_BYTES) {
        const Body = body(size);
        await slots.run(() => client.send(new PutObjectCommand({ Bucket: BENCH_BUCKET, Key, Body })));
        return;
      }
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BENCH_BUCKET, Key }));
      const parts = Math.floor(size / MIN_PART_BYTES);
      const uploaded = await Promise.all(
        Array.from({ length: parts }, (_, p) => {
          const bytes = p === parts - 1 ? size - p * MIN_PART_BYTES : MIN_PART_BYTES;
          const Body = body(bytes);
          return slots.run(async () => {
            const { ETag } = await client.send(new UploadPartCommand({ Bucket: BENCH_BUCKET, Key, UploadId, PartNumber: p + 1, Body }));
            return { PartNumber: p + 1, ETag: ETag! };
          });
        }),
      );
      await client.send(new CompleteMultipartUploadCommand({ Bucket: BENCH_BUCKET, Key, UploadId, MultipartUpload: { Parts: uploaded } }));
    }),
  );
}
