/**
 * S3Store against S3 servers on 127.0.0.1 (fauxqs, and s3rver for the round trips, both started here): the same
 * write to S3 and to a directory gives the same objects byte for byte, zarrita.js reads every pixel back over HTTP,
 * chunks over 5 MiB go up in parts, failures leave nothing half-written, a vanished server fails the stream (no
 * hang), credentials never show; and what s3rver does with the SDK's default checksums and with aborted uploads.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import * as zarr from 'zarrita';
import { sinkOf, zarrTransforms } from '../src/zarr-transforms.js';
import { S3Store } from '../src/stores/s3-store.js';
import { MIN_PART_BYTES } from '../src/stores/s3-writer.js';
import { parseS3Url } from '../src/stores/s3-url.js';
import { clientConfig, resolveS3Options } from '../src/stores/s3-settings.js';
import { checkClearable, treeOfKeys } from '../src/stores/s3-clear.js';
import type { ZarrStreamOptions } from '../src/options.js';
import { firstDifference, makeFrames, randomBytes, source, tempDir } from './helpers/frames.js';
import { readWithZarrita } from './helpers/readers.js';
import { isMetadata } from './helpers/store-check.js';
import { deleteBucket, FAKE_KEY_ID, FAKE_SECRET, relay, S3_SERVERS, startS3, throttlingProxy, type S3ServerName, type TestS3 } from './helpers/s3-server.js';

/** fauxqs, the main target (or the external server, ZS_TEST_S3_ENDPOINT); the round trips run against every server in `servers`. */
let s3: TestS3;
const servers = new Map<S3ServerName, TestS3>();
test.before(async () => {
  for (const name of S3_SERVERS) servers.set(name, await startS3(name));
  s3 = servers.get('fauxqs') ?? servers.get('external')!;
});
test.after.always(async () => {
  for (const server of servers.values()) await server.stop();
});

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

async function localFiles(root: string, dir = ''): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true })) {
    const key = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) for (const [k, v] of await localFiles(root, key)) out.set(k, v);
    else if (!entry.name.startsWith('.zarr-stream')) out.set(key, await readFile(path.join(root, key)));
  }
  return out;
}

/** A shard's chunks by index slot (undefined where absent), as its index at the end places them. */
function chunksOfShard(shard: Uint8Array, slots: number): Array<Uint8Array | undefined> {
  const view = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
  const index = shard.byteLength - (16 * slots + 4);
  return Array.from({ length: slots }, (_, slot) => {
    const offset = view.getBigUint64(index + 16 * slot, true);
    const nbytes = view.getBigUint64(index + 16 * slot + 8, true);
    return offset === 2n ** 64n - 1n ? undefined : new Uint8Array(shard.buffer, shard.byteOffset + Number(offset), Number(nbytes));
  });
}

function containsText(bytes: Uint8Array, text: string): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(text);
}

/**
 * A client of our own, recording each command's name, whether any request used aws-chunked or a checksum, and the
 * most uploads (PutObject, UploadPart) in flight at once.
 */
function recordingClient(config: S3ClientConfig): { client: S3Client; commands: string[]; checksummed: string[]; uploads: { now: number; most: number } } {
  const client = new S3Client(config);
  const commands: string[] = [];
  const checksummed: string[] = [];
  const uploads = { now: 0, most: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      if (Object.keys(headers).some((h) => /^x-amz-checksum-|^x-amz-sdk-checksum/i.test(h)) || /aws-chunked/.test(headers['content-encoding'] ?? '')) checksummed.push(context.commandName!);
      commands.push(context.commandName!);
      const upload = /^(PutObject|UploadPart)Command$/.test(context.commandName!);
      if (upload) uploads.most = Math.max(uploads.most, ++uploads.now);
      try {
        return await next(args);
      } finally {
        if (upload) uploads.now--;
      }
    },
    { step: 'finalizeRequest' },
  );
  return { client, commands, checksummed, uploads };
}

test('pure: s3:// URLs, option defaults for custom endpoints, and the overwrite rules on object keys', (t) => {
  t.deepEqual(parseS3Url('s3://my-bucket/runs/day1.zarr/'), { bucket: 'my-bucket', prefix: 'runs/day1.zarr' });
  t.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
  t.throws(() => parseS3Url('s3://My_Bucket/x'), { message: /valid bucket name.*"My_Bucket"/ });
  t.throws(() => parseS3Url('s3://bucket/a/../b'), { message: /valid prefix/ });
  const custom = clientConfig(resolveS3Options({ endpoint: 'http://127.0.0.1:9000' }), {});
  t.like(custom, { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, region: 'us-east-1', requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const aws = clientConfig(resolveS3Options({}), {});
  t.is(aws.requestChecksumCalculation, undefined);
  t.is(aws.forcePathStyle, false);
  t.throws(() => resolveS3Options({ endpoint: 'http://key:secret@host' }), { message: /s3\.endpoint must be a URL without user:password/ });
  t.throws(() => resolveS3Options({ requestChecksumCalculation: 'NEVER' as never }), { message: /s3\.requestChecksumCalculation/ });
  t.throws(() => zarrTransforms({ store: '/tmp/x.zarr', s3: { region: 'eu-west-1' }, dtype: 'uint8', width: 4, height: 4 }), { message: /s3 options were given, but store is not an s3:\/\/ URL/ });
  t.throws(() => zarrTransforms({ store: 's3://bucket/x', s3: { endpointt: 'x' } as never, dtype: 'uint8', width: 4, height: 4 }), { message: /s3\.endpointt is not an option \(did you mean s3\.endpoint\?\)/ });
  const zarrStore = treeOfKeys(['zarr.json', '0/zarr.json', '0/c/0/0/0/0', '0/c/1/0/0/0'], new Set(['0']));
  t.notThrows(() => checkClearable(zarrStore, 's3://b/p'));
  t.throws(() => checkClearable(treeOfKeys(['zarr.json', '0/zarr.json', '0/c/0/0/0/0', 'notes.txt'], new Set(['0'])), 's3://b/p'), { message: /not Zarr keys \(notes\.txt\)/ });
  t.throws(() => checkClearable(treeOfKeys(['photos/a.jpg'], new Set()), 's3://b/p'), { message: /not a Zarr store \(holds photos\/\)/ });
});

const CASES: Array<{ label: string; options: Partial<ZarrStreamOptions> }> = [
  { label: 'v2 lz4 multiscale', options: { zarrVersion: 2, compression: { codec: 'lz4' }, multiscale: true } },
  { label: 'v3 zstd multiscale', options: { zarrVersion: 3, compression: { codec: 'zstd', clevel: 3 }, multiscale: true } },
  { label: 'v3 raw multiscale', options: { zarrVersion: 3, multiscale: true } },
  { label: 'v2 raw', options: { zarrVersion: 2 } },
  // Shards of 2 x 2 x 2 chunks over 2 planes of a 2 x 3 chunk grid, 7 frames: ragged shards, a partial last shard row.
  { label: 'v3 lz4 sharded', options: { zarrVersion: 3, compression: { codec: 'lz4' }, shardChunks: [2, 1, 2, 2] } },
];

for (const server of S3_SERVERS) for (const { label, options } of CASES) {
  test(`${server}, ${label}: the S3 objects equal the directory's files key for key, and zarrita reads every pixel over HTTP`, async (t) => {
    const s3 = servers.get(server)!;
    const bucket = await s3.newBucket();
    const dir = await tempDir();
    const set = makeFrames(7, 70, 45, 2, 'uint16');
    const shape = { dtype: 'uint16' as const, width: 70, height: 45, planes: 2, chunking: { tileWidth: 32, tileHeight: 32, framesPerChunk: 2 }, ...options };
    await pipeline(source(set.frames), ...zarrTransforms({ store: `s3://${bucket}/run.zarr`, s3: { endpoint: s3.endpoint }, ...shape }));
    await pipeline(source(set.frames), ...zarrTransforms({ store: path.join(dir, 'run.zarr'), durable: false, ...shape }));
    const remote = await s3.objects(bucket, 'run.zarr');
    const local = await localFiles(path.join(dir, 'run.zarr'));
    t.deepEqual([...remote.keys()].sort(), [...local.keys()].sort());
    // A shard holds its chunks in the order they completed, which two writes need not share: its chunks compare.
    const slots = options.shardChunks?.reduce((a, b) => a * b);
    for (const [key, bytes] of local) {
      if (slots && !isMetadata(key)) t.deepEqual(chunksOfShard(remote.get(key)!, slots), chunksOfShard(bytes, slots), key);
      else t.is(firstDifference(remote.get(key)!, bytes), -1, key);
    }
    for (const bytes of remote.values()) t.false(containsText(bytes, FAKE_SECRET) || containsText(bytes, FAKE_KEY_ID));
    const http = new zarr.FetchStore(`${s3.endpoint}/${bucket}/run.zarr`);
    const levels = options.multiscale ? 3 : 1;
    for (let level = 0; level < levels; level++) {
      const back = await readWithZarrita(http as zarr.Readable, String(level));
      const reference = level === 0 ? set.bytes : (await readWithZarrita(path.join(dir, 'run.zarr'), String(level))).bytes;
      t.is(back.bytes.byteLength, reference.byteLength, `level ${level}`);
      t.is(firstDifference(back.bytes, reference), -1, `level ${level}`);
    }
    await deleteBucket(s3, bucket);
    await rm(dir, { recursive: true, force: true });
  });
}

for (const server of S3_SERVERS) test(`${server}: chunks over 5 MiB go up as several parts (streamed Blosc headers patched into the held first part), without aws-chunked checksums`, async (t) => {
  const s3 = servers.get(server)!;
  const bucket = await s3.newBucket();
  // Random pixels do not compress: each chunk (3 frames of 2 MiB) stays over 5 MiB compressed.
  const frames = Array.from({ length: 4 }, (_, i) => new Uint16Array(randomBytes(2 * 2 ** 20, i + 1).buffer));
  const expected = new Uint8Array(4 * 2 * 2 ** 20);
  frames.forEach((frame, i) => expected.set(new Uint8Array(frame.buffer), i * 2 * 2 ** 20));
  for (const [prefix, compression] of [['raw', 'none'], ['lz4', { codec: 'lz4' }]] as const) {
    const recorder = recordingClient(clientConfig(resolveS3Options({ endpoint: s3.endpoint })));
    const store = new S3Store(`s3://${bucket}/${prefix}`, { client: recorder.client });
    await pipeline(source(frames), ...zarrTransforms({ store, dtype: 'uint16', width: 1024, height: 1024, compression, chunking: { tileWidth: 0, tileHeight: 0, framesPerChunk: 3 } }));
    // Two chunks (the second padded to 3 frames), each in two parts.
    // Raw: two chunks (the second padded to 3 frames), each in two parts. lz4: the padding compresses, so the
    // second chunk is one PutObject.
    t.is(recorder.commands.filter((c) => c === 'UploadPartCommand').length, prefix === 'raw' ? 4 : 2, prefix);
    t.is(recorder.commands.filter((c) => c === 'CompleteMultipartUploadCommand').length, prefix === 'raw' ? 2 : 1, prefix);
    t.deepEqual(recorder.checksummed, [], prefix);
    const back = await readWithZarrita(new zarr.FetchStore(`${s3.endpoint}/${bucket}/${prefix}`) as zarr.Readable);
    t.is(firstDifference(back.bytes, expected), -1, prefix);
    recorder.client.destroy();
  }
  await deleteBucket(s3, bucket);
});

// s3rver's own behaviour: only where it runs (not against an external server).
(S3_SERVERS.includes('s3rver') ? test : test.skip)('s3rver and checksums: the SDK default stores a streamed body with its aws-chunked framing; S3Store reads back exact either way; it cannot abort an upload', async (t) => {
  const s3 = servers.get('s3rver')!;
  const bucket = await s3.newBucket();
  const value = randomBytes(1000, 3);
  // What an SDK user gets with the default (WHEN_SUPPORTED) and a stream body: a CRC trailer in aws-chunked
  // encoding, which s3rver stores as the object, framing and all. Why custom endpoints default to WHEN_REQUIRED.
  for (const requestChecksumCalculation of ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const) {
    const client = new S3Client({ ...clientConfig(resolveS3Options({ endpoint: s3.endpoint })), requestChecksumCalculation });
    const Key = `sdk/${requestChecksumCalculation}`;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Readable.from([Buffer.from(value)]), ContentLength: value.byteLength }));
    const back = await (await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToByteArray();
    if (requestChecksumCalculation === 'WHEN_SUPPORTED') {
      t.not(back.byteLength, value.byteLength, 'stored with its framing');
      t.is(new TextDecoder().decode(back.subarray(0, 5)), `${value.byteLength.toString(16)}\r\n`, 'the first aws-chunked chunk header');
      t.true(containsText(back, 'x-amz-checksum-crc32'), 'and the trailer');
    } else t.is(firstDifference(back, value), -1);
    client.destroy();
  }
  // S3Store sends byte arrays of known length, so even with WHEN_SUPPORTED the SDK puts the checksum in a header,
  // not in aws-chunked framing: s3rver (which ignores the header) stores the bytes as they are, in one PutObject
  // or in parts.
  // Two full parts and a short last one: the first is held (for a header patch), the second starts the upload.
  const big = randomBytes(2 * MIN_PART_BYTES + 2000, 4);
  for (const requestChecksumCalculation of ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const) {
    const recorder = recordingClient({ ...clientConfig(resolveS3Options({ endpoint: s3.endpoint })), requestChecksumCalculation });
    const store = new S3Store(`s3://${bucket}/store-${requestChecksumCalculation}`, { client: recorder.client });
    await store.set('small', value);
    const writer = store.createWriter('big');
    await writer.append(big);
    await writer.commit();
    t.is(firstDifference((await store.get('small'))!, value), -1, requestChecksumCalculation);
    t.is(firstDifference((await store.get('big'))!, big), -1, requestChecksumCalculation);
    t.is(recorder.checksummed.length > 0, requestChecksumCalculation === 'WHEN_SUPPORTED', 'checksums sent only when asked for');
    // s3rver 3.7 routes no DELETE ?uploadId: AbortMultipartUpload fails (405), the upload stays pending there.
    const aborted = store.createWriter('aborted');
    await aborted.append(big);
    await t.throwsAsync(aborted.abort(), { message: /AbortMultipartUpload of .*aborted failed \(HTTP 405\): MethodNotAllowed/ });
    t.is(await store.get('aborted'), undefined, 'nothing under the key');
    recorder.client.destroy();
  }
  await deleteBucket(s3, bucket);
});

test('writer: overwrite patches bytes still held, refuses uploaded ones; abort leaves no object and no pending upload', async (t) => {
  const bucket = await s3.newBucket();
  const store = new S3Store(`s3://${bucket}/w`, { endpoint: s3.endpoint });
  const value = randomBytes(2 * MIN_PART_BYTES + 1000);
  const writer = store.createWriter('c/0');
  await Promise.all([writer.append(value.subarray(0, 7)), writer.append([value.subarray(7, MIN_PART_BYTES + 5), value.subarray(MIN_PART_BYTES + 5)])]);
  await t.throwsAsync(writer.overwrite!(MIN_PART_BYTES, new Uint8Array(4)), { message: /store key "c\/0".*already uploaded/ });
  const head = new Uint8Array([1, 2, 3, 4, 5]);
  await writer.overwrite!(0, head);
  await writer.commit();
  value.set(head, 0);
  t.is(firstDifference((await store.get('c/0'))!, value), -1);
  const aborted = store.createWriter('c/1');
  await aborted.append(value);
  await aborted.abort();
  t.is(await store.get('c/1'), undefined);
  // A commit the server refuses (a part under the 5 MiB minimum) aborts the upload too.
  const small = new S3Store(`s3://${bucket}/w`, { endpoint: s3.endpoint });
  (small as unknown as { partBytes: number }).partBytes = MIN_PART_BYTES - 1;
  const refused = small.createWriter('c/2');
  await refused.append(value.subarray(0, MIN_PART_BYTES + 10));
  await t.throwsAsync(refused.commit(), { message: new RegExp(`CompleteMultipartUpload of s3://${bucket}/w/c/2 failed.*EntityTooSmall`) });
  t.is(await store.get('c/2'), undefined);
  // Three parts appended at once by two writers: the store lets one upload run at a time.
  const recorder = recordingClient(clientConfig(resolveS3Options({ endpoint: s3.endpoint })));
  const one = new S3Store(`s3://${bucket}/w`, { client: recorder.client, maxConcurrentUploads: 1 });
  const [a, b] = [one.createWriter('c/3'), one.createWriter('c/4')];
  await Promise.all([a.append(value), b.append(value), a.append(value.subarray(0, MIN_PART_BYTES))]);
  await Promise.all([a.commit(), b.commit()]);
  t.is(recorder.uploads.most, 1);
  // c/3: parts 2 and 3 as they fill, then its last (1000 bytes) and held first part; c/4: part 2, then 3 and 1.
  t.is(recorder.commands.filter((c) => c === 'UploadPartCommand').length, 4 + 3);
  t.is((await store.get('c/4'))!.byteLength, value.byteLength);
  recorder.client.destroy();
  store.destroy();
  small.destroy();
  await t.notThrowsAsync(deleteBucket(s3, bucket), 'no multipart upload left pending');
});

test('a failing source: completed chunks readable, the unfinished chunk neither stored nor pending', async (t) => {
  const bucket = await s3.newBucket();
  const frames = Array.from({ length: 5 }, (_, i) => new Uint16Array(randomBytes(2 * 2 ** 20, i + 9).buffer));
  const options = { store: `s3://${bucket}/f`, s3: { endpoint: s3.endpoint }, dtype: 'uint16', width: 1024, height: 1024, chunking: { tileWidth: 0, tileHeight: 0, framesPerChunk: 3 } } as const;
  const chain = zarrTransforms(options);
  const firstRow = new Promise<void>((resolve) => sinkOf(chain).on('progress', (progress: { frames: number[] }) => progress.frames[0]! >= 3 && resolve()));
  async function* failing() {
    yield* frames;
    // Fails once the first chunk (a multipart upload) is stored, with the second half-way.
    await firstRow;
    throw new Error('camera unplugged');
  }
  await t.throwsAsync(pipeline(failing, ...chain), { message: /camera unplugged/ });
  const objects = await s3.objects(bucket, 'f');
  t.true(objects.has('0/c/0/0/0/0'));
  t.false(objects.has('0/c/1/0/0/0'), 'the unfinished chunk');
  const back = await readWithZarrita(new zarr.FetchStore(`${s3.endpoint}/${bucket}/f`) as zarr.Readable);
  t.deepEqual(back.shape, [3, 1, 1024, 1024]);
  t.is(firstDifference(back.bytes, new Uint8Array(frames.slice(0, 3).flatMap((f) => [...new Uint8Array(f.buffer)]))), -1);
  // Overwrite: a second write is refused without it, replaces the store with it, and refuses a foreign object.
  await t.throwsAsync(pipeline(source(frames.slice(0, 1)), ...zarrTransforms(options)), { message: /not empty; pass overwrite: true/ });
  await pipeline(source(frames.slice(0, 1)), ...zarrTransforms({ ...options, overwrite: true }));
  t.false((await s3.objects(bucket, 'f')).has('0/c/0/0/0/0'.replace('c/0', 'c/1')));
  const store = new S3Store(`s3://${bucket}/f`, { endpoint: s3.endpoint });
  await store.set('notes.txt', new TextEncoder().encode('mine'));
  await t.throwsAsync(pipeline(source(frames.slice(0, 1)), ...zarrTransforms({ ...options, overwrite: true })), { message: new RegExp(`refusing to overwrite s3://${bucket}/f: .*notes\\.txt`) });
  t.truthy(await store.get('notes.txt'));
  store.destroy();
  await t.notThrowsAsync(deleteBucket(s3, bucket), 'no multipart upload left pending');
});

test('the server vanishing mid-stream fails the write naming bucket and key, and what completed stays readable', async (t) => {
  const bucket = await s3.newBucket();
  const link = await relay(Number(new URL(s3.endpoint).port));
  const frames = Array.from({ length: 12 }, (_, i) => new Uint16Array(randomBytes(64 * 64 * 2, i + 20).buffer));
  const store = new S3Store(`s3://${bucket}/gone`, { endpoint: s3.endpoint });
  async function* cutAfterSix() {
    for (let i = 0; i < frames.length; i++) {
      if (i === 6) {
        // Once the metadata (read past the relay) claims a chunk row, the server goes.
        while (JSON.parse(new TextDecoder().decode((await store.get('0/zarr.json')) ?? new Uint8Array([48]))).shape?.[0] < 3) await new Promise((resolve) => setTimeout(resolve, 20));
        link.cut();
      }
      yield frames[i]!;
    }
  }
  const chain = zarrTransforms({ store: `s3://${bucket}/gone`, s3: { endpoint: link.endpoint, maxAttempts: 2, idleTimeoutMs: 2000 }, dtype: 'uint16', width: 64, height: 64, chunking: { tileWidth: 32, tileHeight: 64, framesPerChunk: 3 } });
  // A failed metadata rewrite is a warning (retried with the next update).
  const warnings: string[] = [];
  sinkOf(chain).on('warning', (warning: string) => warnings.push(warning));
  const error = await t.throwsAsync(pipeline(cutAfterSix, ...chain));
  t.regex(error!.message, new RegExp(`s3://${bucket}/gone/`));
  t.regex(error!.message, /ECONNREFUSED|ECONNRESET|socket hang up|EPIPE/);
  const everything = `${error!.message} ${error!.stack} ${String((error as Error & { cause?: unknown }).cause)} ${warnings.join(' ')}`;
  t.false(everything.includes(FAKE_SECRET) || everything.includes(FAKE_KEY_ID), 'no credentials in the error');
  const back = await readWithZarrita(new zarr.FetchStore(`${s3.endpoint}/${bucket}/gone`) as zarr.Readable);
  t.true(back.shape[0]! >= 3, `claimed ${back.shape[0]} frames`);
  const expected = new Uint8Array(frames.slice(0, back.shape[0]).flatMap((f) => [...new Uint8Array(f.buffer)]));
  t.is(firstDifference(back.bytes, expected), -1);
  store.destroy();
  await deleteBucket(s3, bucket);
});

test('throttling (503 SlowDown) is retried with backoff up to maxAttempts, then fails naming the object', async (t) => {
  const bucket = await s3.newBucket();
  const failures = { count: 2, refused: 0 };
  const proxy = await throttlingProxy(Number(new URL(s3.endpoint).port), failures);
  const patient = new S3Store(`s3://${bucket}/r`, { endpoint: proxy.endpoint, maxAttempts: 3 });
  await patient.set('zarr.json', new TextEncoder().encode('{}'));
  t.is(failures.refused, 2);
  t.deepEqual(await patient.get('zarr.json'), new TextEncoder().encode('{}'));
  failures.count = Infinity;
  await t.throwsAsync(patient.set('0/zarr.json', new Uint8Array(1)), { message: new RegExp(`store key "0/zarr.json": S3 PutObject of s3://${bucket}/r/0/zarr.json failed after 3 attempts \\(HTTP 503\\): SlowDown`) });
  t.is(failures.refused, 5);
  patient.destroy();
  proxy.close();
  await deleteBucket(s3, bucket);
});

test('a server that accepts and never answers: the request times out (idleTimeoutMs) instead of hanging the write', async (t) => {
  t.timeout(30_000);
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => void sockets.add(socket.on('error', () => undefined)));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const store = new S3Store('s3://silent-bucket/x', { endpoint: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, maxAttempts: 2, idleTimeoutMs: 300 });
  await t.throwsAsync(store.set('zarr.json', new Uint8Array(2)), { message: /S3 PutObject of s3:\/\/silent-bucket\/x\/zarr\.json failed after 2 attempts: TimeoutError/ });
  store.destroy();
  for (const socket of sockets) socket.destroy();
  silent.close();
});

test('a chain built for s3:// and never run sends nothing; once run, it opens with the emptiness check', async (t) => {
  let connections = 0;
  const counter = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(counter.address() as net.AddressInfo).port}`;
  const chain = zarrTransforms({ store: 's3://never-run/x', s3: { endpoint, maxAttempts: 1 }, dtype: 'uint8', width: 4, height: 4 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(connections, 0);
  await t.throwsAsync(pipeline(source([new Uint8Array(16)]), ...chain), { message: /S3 ListObjectsV2 of s3:\/\/never-run\/x\/ failed/ });
  t.true(connections > 0);
  counter.close();
});

test('CLI: write to s3:// with --s3-endpoint; --json names the URL, no credentials anywhere', async (t) => {
  const bucket = await s3.newBucket();
  const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, 'write', `s3://${bucket}/cli.zarr`, '--s3-endpoint', s3.endpoint, '--frames', '5', '--width', '40', '--height', '30', '--tile-width', '16', '--compression', 'lz4', '--json'], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
  t.is(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { store: string; shape: number[] };
  t.is(summary.store, `s3://${bucket}/cli.zarr`);
  t.deepEqual(summary.shape, [5, 1, 30, 40]);
  t.false((run.stdout + run.stderr).includes(FAKE_SECRET) || (run.stdout + run.stderr).includes(FAKE_KEY_ID));
  const back = await readWithZarrita(new zarr.FetchStore(`${s3.endpoint}/${bucket}/cli.zarr`) as zarr.Readable);
  t.is(firstDifference(back.bytes, makeFrames(5, 40, 30, 1, 'uint16').bytes), -1);
  const misuse = await new Promise<string>((resolve) => execFile(process.execPath, [CLI, 'write', 'local.zarr', '--s3-endpoint', s3.endpoint], (_e, _o, stderr) => resolve(stderr)));
  t.regex(misuse, /--s3-endpoint and --s3-region need an s3:\/\/bucket\/prefix <out>/);
  await deleteBucket(s3, bucket);
});
