/** `s3://bucket/prefix` store locations: pure parsing, so the rules are tested without a server. */
import { OptionError } from '../option-error.js';
import { validateKey } from './keys.js';

export interface S3Location {
  bucket: string;
  /** The key prefix the store lives under, without leading or trailing "/"; '' for the bucket's root. */
  prefix: string;
}

export function isS3Url(value: unknown): value is string {
  return typeof value === 'string' && /^s3:\/\//i.test(value);
}

/** S3's bucket naming rules (lowercase letters, digits, dots and hyphens; 3-63 characters; no "..", not an IP). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket/prefix/` (the prefix is optional), throwing an OptionError for `field` naming what is wrong. */
export function parseS3Url(url: string, field = 'store'): S3Location {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/i.exec(url);
  if (!match) throw new OptionError(field, url, 'an s3://bucket/prefix URL');
  const bucket = match[1]!;
  if (!BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new OptionError(field, url, `an s3://bucket/prefix URL with a valid bucket name (3-63 lowercase letters, digits, dots, hyphens), not ${JSON.stringify(bucket)}`);
  }
  const prefix = match[2]!.replace(/\/+$/, '');
  if (prefix !== '') {
    try {
      validateKey(prefix);
    } catch (error) {
      throw new OptionError(field, url, `an s3://bucket/prefix URL with a valid prefix (${(error as Error).message})`);
    }
  }
  return { bucket, prefix };
}

/** The object key for a store key. */
export function objectKey(location: S3Location, key: string): string {
  return location.prefix === '' ? key : `${location.prefix}/${key}`;
}

/** `s3://bucket/prefix/key`, for messages. */
export function s3Url(location: S3Location, key?: string): string {
  const path = key === undefined ? location.prefix : objectKey(location, key);
  return `s3://${location.bucket}${path === '' ? '' : '/' + path}`;
}
