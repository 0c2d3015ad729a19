import { S3Client } from '@aws-sdk/client-s3';

/**
 * S3 client for AWS or an emulator. Path-style addressing works on s3rver and
 * LocalStack; checksums only when required, or presigned PUTs would carry an
 * empty-body checksum that the browser's upload cannot match.
 */
export function createS3Client(region: string, endpoint?: string): S3Client {
  return new S3Client({
    region,
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
