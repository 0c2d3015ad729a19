import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3ObjectStore } from '#adapters/s3-object-store.ts';

/**
 * HeadObject of a missing key (issue 13, finding 8): S3 answers 404 to a caller allowed s3:ListBucket and
 * 403 to one that is not, which the functions are not. Either way the upload is missing, not a 500.
 */
const failingWith = (status: number, name: string) =>
  ({
    send: async () => {
      throw Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    },
  }) as unknown as S3Client;

describe('S3ObjectStore.sizeOf', () => {
  it('reads a missing object as missing whether S3 answers 404 (with s3:ListBucket) or 403 (without)', async () => {
    expect(await new S3ObjectStore(failingWith(404, 'NotFound'), 'b').sizeOf('attachments/x')).toBeNull();
    expect(await new S3ObjectStore(failingWith(403, 'Forbidden'), 'b').sizeOf('attachments/x')).toBeNull();
  });

  it('returns the size of an object that exists, and passes other failures on', async () => {
    const present = { send: async () => ({ ContentLength: 42 }) } as unknown as S3Client;
    expect(await new S3ObjectStore(present, 'b').sizeOf('attachments/x')).toBe(42);
    await expect(new S3ObjectStore(failingWith(500, 'InternalError'), 'b').sizeOf('attachments/x')).rejects.toThrow(
      'InternalError',
    );
  });
});
