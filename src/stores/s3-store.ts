/**
 * A store in an S3 bucket (AWS S3, MinIO, Ceph RGW, any S3-compatible service), under `s3://bucket/prefix`.
 * Values are single PutObjects; streamed chunks are multipart uploads (s3-writer.ts), which appear under their key
 * only when complete. Part uploads are bounded (maxConcurrentUploads for the store, two per value), so a slow
 * network slows the source; the SDK retries transient errors (5xx, throttling, resets) up to maxAttempts with
 * backoff, then the write fails with an error naming the object's s3:// URL.
 *
 * Credentials come only from the SDK's default provider chain and never appear in our messages. Constructing the
 * store sends nothing: the client is made, and the first request goes out when the stream runs. No lock: S3 has no
 * cheap exclusive create on every S3-compatible server, so two writers to one prefix are the user's to avoid.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { validateKey } from './keys.js';
import { withKey, type Store, type StoreWriter } from './store.js';
import { objectKey, parseS3Url, s3Url, type S3Location } from './s3-url.js';
import { clientConfig, resolveS3Options, type S3Options } from './s3-settings.js';
import { MIN_PART_BYTES, S3Writer, type S3WriterHost } from './s3-writer.js';
import { checkClearable, treeOfKeys, zarrJsonDirs } from './s3-clear.js';
import { Semaphore } from '../util/semaphore.js';

export interface S3StoreOptions extends S3Options {
  /** A client of your own (its configuration is then yours); by default one is made from the options above. */
  client?: S3Client;
  /** Bytes per part of a multipart upload: at least 5 MiB (S3's minimum), the default. */
  partBytes?: number;
}

/** Spare part buffers kept for reuse. */
const SPARE_BUFFERS = 4;
/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

export class S3Store implements Store {
  readonly location: S3Location;
  readonly client: S3Client;
  readonly partBytes: number;
  private readonly uploads: Semaphore;
  private readonly spare: Uint8Array[] = [];

  constructor(url: string | S3Location, options: S3StoreOptions = {}) {
    this.location = typeof url === 'string' ? parseS3Url(url) : url;
    const { client, partBytes = MIN_PART_BYTES, ...s3 } = options;
    const resolved = resolveS3Options(s3);
    if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART_BYTES) throw new RangeError(`partBytes must be an integer >= ${MIN_PART_BYTES} (S3's minimum part), got ${partBytes}`);
    this.partBytes = partBytes;
    this.uploads = new Semaphore(resolved.maxConcurrentUploads);
    this.client = client ?? new S3Client(clientConfig(resolved));
  }

  get description(): string {
    return s3Url(this.location);
  }

  /** Sends a request for `key`; a failure (after the SDK's retries) names the object's s3:// URL and the store key. */
  private async send<T>(operation: string, key: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw withKey(this.describeError(operation, objectKey(this.location, key), error), key);
    }
  }

  /**
   * A new Error with only the message: SDK errors carry the request and response, which we keep out of messages.
   * (The secret key is never sent, but the access key id is in the signed request's headers.)
   */
  private describeError(operation: string, object: string, error: unknown): Error {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
    const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
    const attempts = e.$metadata?.attempts && e.$metadata.attempts > 1 ? ` after ${e.$metadata.attempts} attempts` : '';
    const out = new Error(`S3 ${operation} of s3://${this.location.bucket}/${object} failed${attempts}${status}: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`);
    out.name = 'S3Error';
    return out;
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    validateKey(key);
    await this.put(key, value);
  }

  private put(key: string, body: Uint8Array): Promise<void> {
    const Key = objectKey(this.location, key);
    return this.uploads.run(() => this.send('PutObject', key, () => this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key, Body: body, ContentLength: body.byteLength })))).then(() => undefined);
  }

  /** A PutObject with If-None-Match: * (S3's conditional create); false when the object exists (412). */
  async setIfAbsent(key: string, value: Uint8Array): Promise<boolean> {
    validateKey(key);
    const Key = objectKey(this.location, key);
    try {
      await this.uploads.run(() => this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key, Body: value, ContentLength: value.byteLength, IfNoneMatch: '*' })));
      return true;
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.$metadata?.httpStatusCode === 412 || e.name === 'PreconditionFailed') return false;
      throw withKey(this.describeError('PutObject', Key, error), key);
    }
  }

  /** The prefix below `path`, sharing this store's client and settings: its emptiness check and clear concern it only. */
  at(path: string): S3Store {
    validateKey(path);
    const prefix = this.location.prefix === '' ? path : `${this.location.prefix}/${path}`;
    return new S3Store({ bucket: this.location.bucket, prefix }, { client: this.client, partBytes: this.partBytes, maxConcurrentUploads: this.uploads.limit });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    validateKey(key);
    const Key = objectKey(this.location, key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key }));
      return await response.Body!.transformToByteArray();
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
      throw withKey(this.describeError('GetObject', Key, error), key);
    }
  }

  createWriter(key: string): StoreWriter {
    validateKey(key);
    return new S3Writer(key, this.writerHost(key));
  }

  private writerHost(key: string): S3WriterHost {
    const Bucket = this.location.bucket;
    const Key = objectKey(this.location, key);
    return {
      partBytes: this.partBytes,
      put: (body) => this.put(key, body),
      createUpload: () =>
        this.send('CreateMultipartUpload', key, async () => {
          const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
          if (!UploadId) throw new Error('the server returned no UploadId');
          return UploadId;
        }),
      // Called inside the writer's slot: the store's slot bounds every writer's uploads together.
      uploadPart: (UploadId, PartNumber, body) =>
        this.uploads.run(() =>
          this.send(`UploadPart ${PartNumber}`, key, async () => {
            const { ETag } = await this.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body, ContentLength: body.byteLength }));
            if (!ETag) throw new Error(`the server returned no ETag for part ${PartNumber}`);
            return ETag;
          }),
        ),
      completeUpload: (UploadId, Parts) =>
        this.send('CompleteMultipartUpload', key, async () => {
          await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
        }),
      abortUpload: (UploadId) =>
        this.send('AbortMultipartUpload', key, async () => {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
        }),
      takeBuffer: () => this.spare.pop() ?? new Uint8Array(this.partBytes),
      giveBuffer: (buffer) => {
        if (this.spare.length < SPARE_BUFFERS) this.spare.push(buffer);
      },
    };
  }

  /** The object keys under the prefix, relative to it. */
  private async listKeys(limit = Infinity): Promise<string[]> {
    const Prefix = this.location.prefix === '' ? undefined : this.location.prefix + '/';
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client
        .send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix, ContinuationToken, MaxKeys: Number.isFinite(limit) ? limit : undefined }))
        .catch((error: unknown) => {
          throw this.describeError('ListObjectsV2', Prefix ?? '', error);
        });
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(Prefix?.length ?? 0));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken && keys.length < limit);
    return keys;
  }

  async isEmpty(): Promise<boolean> {
    return (await this.listKeys(1)).length === 0;
  }

  /** Removes a Zarr store's keys (batched DeleteObjects); refuses, naming them, when anything else is there. */
  async clear(): Promise<void> {
    const keys = await this.listKeys();
    if (keys.length === 0) return;
    const v3Arrays = new Set<string>();
    await Promise.all(
      zarrJsonDirs(keys).map(async (dir) => {
        const document = await this.get(dir === '' ? 'zarr.json' : `${dir}/zarr.json`).catch(() => undefined);
        if (isV3Array(document)) v3Arrays.add(dir);
      }),
    );
    checkClearable(treeOfKeys(keys, v3Arrays), this.description);
    for (let at = 0; at < keys.length; at += DELETE_BATCH) {
      const Objects = keys.slice(at, at + DELETE_BATCH).map((key) => ({ Key: objectKey(this.location, key) }));
      const { Errors } = await this.send('DeleteObjects', keys[at]!, () => this.client.send(new DeleteObjectsCommand({ Bucket: this.location.bucket, Delete: { Objects, Quiet: true } })));
      if (Errors && Errors.length > 0) throw new Error(`S3 DeleteObjects under ${this.description} failed for ${Errors.length} keys, e.g. ${Errors[0]!.Key}: ${Errors[0]!.Code} ${Errors[0]!.Message ?? ''}`.trim());
    }
  }

  /** Closes the client's connections; the store cannot be used afterwards. */
  destroy(): void {
    this.client.destroy();
  }
}

/** Unreadable metadata counts as an array's: it may be ours, torn (as FileSystemStore's clear decides). */
function isV3Array(document: Uint8Array | undefined): boolean {
  if (!document) return true;
  try {
    return (JSON.parse(new TextDecoder().decode(document)) as { node_type?: unknown }).node_type === 'array';
  } catch {
    return true;
  }
}
