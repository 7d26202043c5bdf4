/**
 * S3 servers for tests, in process on 127.0.0.1 (port 0), with fake credentials in the environment: fauxqs (in
 * memory), and s3rver (objects in a temporary directory) as a second, independent implementation. And a TCP relay in
 * front of a server that a test can cut to see a server vanish mid-stream while the objects stay readable.
 */
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { S3Client, ListObjectsV2Command, GetObjectCommand, DeleteObjectsCommand, DeleteBucketCommand, CreateBucketCommand, ListMultipartUploadsCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { startFauxqs } from 'fauxqs';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';

/**
 * An S3 server already running elsewhere (a Ceph RGW from scripts/ceph-rgw.sh, in .ci/run): with this set, the tests
 * run against it alone, with the credentials in the environment, instead of starting their own servers.
 */
export const EXTERNAL_ENDPOINT = process.env.ZS_TEST_S3_ENDPOINT || undefined;

/**
 * Credentials the SDK's default chain finds: a test checks they never appear in output or in the store. Fake ones
 * for the in-process servers; an external server's own (from the environment) otherwise.
 */
export const FAKE_KEY_ID = EXTERNAL_ENDPOINT ? requiredEnv('AWS_ACCESS_KEY_ID') : 'AKIAZSTESTKEYID12345';
export const FAKE_SECRET = EXTERNAL_ENDPOINT ? requiredEnv('AWS_SECRET_ACCESS_KEY') : 'zsTestSecret/doNotPrint+0123456789abcdefgh';
process.env.AWS_ACCESS_KEY_ID = FAKE_KEY_ID;
process.env.AWS_SECRET_ACCESS_KEY = FAKE_SECRET;

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`ZS_TEST_S3_ENDPOINT is set, so ${name} must be too (the external server's credentials)`);
  return value;
}
// The pinned SDK warns that its releases from 2027 need Node 22 (docs/dependencies.md).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export type S3ServerName = 'fauxqs' | 's3rver' | 'external';
export const S3_SERVERS: readonly S3ServerName[] = EXTERNAL_ENDPOINT ? ['external'] : ['fauxqs', 's3rver'];

export interface TestS3 {
  server: S3ServerName;
  endpoint: string;
  client: S3Client;
  newBucket(): Promise<string>;
  /** Every object under `prefix/` (keys relative to it), read whole. */
  objects(bucket: string, prefix: string): Promise<Map<string, Uint8Array>>;
  stop(): Promise<void>;
}

let buckets = 0;

/** Starts `name` on 127.0.0.1 at a free port: its port, and how to stop it (and remove what it stored). */
async function launch(name: S3ServerName): Promise<{ port: number; stop(): Promise<void> }> {
  if (name === 'external') {
    if (!EXTERNAL_ENDPOINT) throw new Error('the external S3 server needs ZS_TEST_S3_ENDPOINT');
    return { port: Number(new URL(EXTERNAL_ENDPOINT).port), stop: async () => undefined };
  }
  if (name === 'fauxqs') {
    const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
    return { port: server.port, stop: () => server.stop() };
  }
  // s3rver checks signatures against the one account it knows: the tests' fake credentials become that account's.
  DUMMY_ACCOUNT.createKeyPair(FAKE_KEY_ID, FAKE_SECRET);
  const directory = await mkdtemp(path.join(os.tmpdir(), 'zarr-stream-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await server.run();
  return {
    port,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export async function startS3(name: S3ServerName = 'fauxqs'): Promise<TestS3> {
  const server = await launch(name);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  return {
    server: name,
    endpoint,
    client,
    async newBucket() {
      const bucket = `zs-test-${process.pid}-${++buckets}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      // A real server keeps objects private: zarrita.js reads anonymously, and a missing chunk must answer 404 (which
      // takes s3:ListBucket), not 403.
      if (name === 'external') await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(anonymousReadPolicy(bucket)) }));
      return bucket;
    },
    async objects(bucket, prefix) {
      const out = new Map<string, Uint8Array>();
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + '/', ContinuationToken }));
        for (const { Key } of page.Contents ?? []) {
          const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
          out.set(Key!.slice(prefix.length + 1), await object.Body!.transformToByteArray());
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return out;
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

/** Anonymous reads of one bucket's objects and listing, as zarrita.js's HTTP store needs them. */
function anonymousReadPolicy(bucket: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] },
      { Effect: 'Allow', Principal: '*', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`] },
    ],
  };
}

/**
 * Deletes every object, then the bucket, failing if a multipart upload was left pending: fauxqs refuses DeleteBucket
 * while one is (it has no ListMultipartUploads); a real server (Ceph RGW) deletes the bucket anyway, so there the
 * pending uploads are listed first.
 */
export async function deleteBucket(s3: TestS3, bucket: string): Promise<void> {
  if (s3.server === 'external') {
    const uploads = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    if ((uploads.Uploads ?? []).length > 0) throw new Error(`bucket ${bucket}: ${uploads.Uploads!.length} multipart upload(s) left pending, e.g. ${uploads.Uploads![0]!.Key}`);
  }
  const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  const Objects = (page.Contents ?? []).map(({ Key }) => ({ Key }));
  if (Objects.length > 0) await s3.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects } }));
  await s3.client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** A TCP relay to `port` on 127.0.0.1; cut() closes it and every connection through it (a server gone). */
export async function relay(port: number): Promise<{ endpoint: string; cut(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: relayPort } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${relayPort}`,
    cut() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * An HTTP proxy to `port` on 127.0.0.1 that answers the next `failures.count` PUT requests with 503 SlowDown (S3's
 * throttling), as a busy server does; `failures.refused` counts them.
 */
export async function throttlingProxy(port: number, failures: { count: number; refused: number }): Promise<{ endpoint: string; close(): void }> {
  const server = http.createServer((req, res) => {
    if (req.method === 'PUT' && failures.count > 0) {
      failures.count--;
      failures.refused++;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      });
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (response) => {
      res.writeHead(response.statusCode!, response.headers);
      response.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => server.close() };
}
