import { createS3Client } from '#adapters/s3-client.ts';
import { S3ObjectStore } from '#adapters/s3-object-store.ts';
import { config, required } from '#config';
import type { ObjectStore } from '#ports/object-store.ts';
import { once } from './once.ts';

/** The attachments bucket (`data.grantAttachmentObjects`): presigned uploads and downloads, size checks, tags. */
const bucket = required(config.s3.attachmentsBucket, 'ATTACHMENTS_BUCKET');

export const objectStore = once(
  (): ObjectStore => new S3ObjectStore(createS3Client(config.region, config.s3.endpoint), bucket),
);
