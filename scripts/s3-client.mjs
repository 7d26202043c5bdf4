/**
 * The S3 client the scripts talk to a custom endpoint with (a local Ceph RGW): path-style, and checksums only where
 * an operation requires them, as zarr-stream's S3Store does for custom endpoints (docs/usage.md).
 */
import { S3Client } from '@aws-sdk/client-s3';

export function endpointClient(endpoint) {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}
