/**
 * The `s3` option: how to reach an S3-compatible service. Validation and the client configuration are pure;
 * credentials are never an option: the SDK's default provider chain finds them (environment, profile, instance
 * role), so they never pass through our options, messages or metadata.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { OptionError } from '../option-error.js';

export interface S3Options {
  /** A custom endpoint (MinIO, Ceph RGW, a local server): e.g. http://127.0.0.1:9000. Default: AWS S3. */
  endpoint?: string;
  /** Default: the SDK's (AWS_REGION, the profile); with a custom endpoint and none configured, us-east-1. */
  region?: string;
  /** Path-style URLs (endpoint/bucket/key). Default: true with a custom endpoint, false for AWS. */
  forcePathStyle?: boolean;
  /**
   * When the SDK computes request checksums: 'WHEN_SUPPORTED' (the SDK's default for AWS: CRC checksums in
   * aws-chunked bodies, which some S3-compatible servers store verbatim) or 'WHEN_REQUIRED'. Default: 'WHEN_REQUIRED'
   * with a custom endpoint, the SDK's own otherwise.
   */
  requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** Attempts per request, retries of transient errors (5xx, throttling, resets) included, with backoff. Default 5. */
  maxAttempts?: number;
  /**
   * Milliseconds a request may go without progress (connecting, or no byte sent or received) before it fails, and is
   * retried: a vanished server fails the write, a slow but working link does not. Default 30000.
   */
  idleTimeoutMs?: number;
  /** Part uploads in flight at once, over all the store's values (the memory bound's factor). Default 8. */
  maxConcurrentUploads?: number;
}

export type ResolvedS3Options = Required<Pick<S3Options, 'forcePathStyle' | 'maxAttempts' | 'idleTimeoutMs' | 'maxConcurrentUploads'>> &
  Pick<S3Options, 'endpoint' | 'region' | 'requestChecksumCalculation'>;

const CHECKSUM_MODES = ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const;

/** Checks the `s3` option (an OptionError names the field) and fills in defaults. */
export function resolveS3Options(options: S3Options | undefined, field = 's3'): ResolvedS3Options {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new OptionError(field, options, 'an object { endpoint?, region?, ... }');
  const { endpoint, region, forcePathStyle, requestChecksumCalculation, maxAttempts = 5, idleTimeoutMs = 30_000, maxConcurrentUploads = 8 } = options ?? {};
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol)) throw new OptionError(`${field}.endpoint`, endpoint, 'an http:// or https:// URL');
    // Credentials belong to the provider chain, never in a URL that ends up in messages.
    if (url.username || url.password) throw new OptionError(`${field}.endpoint`, '(a URL with credentials)', 'a URL without user:password (credentials come from the environment or profile)');
  }
  if (region !== undefined && (typeof region !== 'string' || !/^[a-z0-9-]+$/.test(region))) throw new OptionError(`${field}.region`, region, 'a region name such as us-east-1');
  if (forcePathStyle !== undefined && typeof forcePathStyle !== 'boolean') throw new OptionError(`${field}.forcePathStyle`, forcePathStyle, 'true or false');
  if (requestChecksumCalculation !== undefined && !CHECKSUM_MODES.includes(requestChecksumCalculation)) {
    throw new OptionError(`${field}.requestChecksumCalculation`, requestChecksumCalculation, `one of ${CHECKSUM_MODES.join(', ')}`);
  }
  positiveInteger(`${field}.maxAttempts`, maxAttempts);
  positiveInteger(`${field}.idleTimeoutMs`, idleTimeoutMs);
  positiveInteger(`${field}.maxConcurrentUploads`, maxConcurrentUploads);
  return {
    endpoint,
    region,
    forcePathStyle: forcePathStyle ?? endpoint !== undefined,
    requestChecksumCalculation: requestChecksumCalculation ?? (endpoint !== undefined ? 'WHEN_REQUIRED' : undefined),
    maxAttempts,
    idleTimeoutMs,
    maxConcurrentUploads,
  };
}

function positiveInteger(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new OptionError(field, value, 'a positive integer');
}

/** The S3Client configuration for resolved options: no credentials (the default provider chain supplies them). */
export function clientConfig(options: ResolvedS3Options, env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const config: S3ClientConfig = {
    forcePathStyle: options.forcePathStyle,
    maxAttempts: options.maxAttempts,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: options.idleTimeoutMs, socketTimeout: options.idleTimeoutMs },
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  const region = options.region ?? (options.endpoint !== undefined ? (env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1') : undefined);
  if (region !== undefined) config.region = region;
  if (options.requestChecksumCalculation !== undefined) {
    config.requestChecksumCalculation = options.requestChecksumCalculation;
    config.responseChecksumValidation = options.requestChecksumCalculation;
  }
  return config;
}
