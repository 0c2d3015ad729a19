import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStore, PresignedUpload } from '#ports/object-store.ts';

const taggingXml = (tags: Record<string, string>) =>
  `<Tagging><TagSet>${Object.entries(tags)
    .map(([key, value]) => `<Tag><Key>${key}</Key><Value>${value}</Value></Tag>`)
    .join('')}</TagSet></Tagging>`;

/** The attachments bucket through the real SDK: S3 in AWS, an emulator locally. */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async presignUpload(
    key: string,
    size: number,
    contentType: string,
    expiresSeconds: number,
    tags: Record<string, string>,
  ): Promise<PresignedUpload> {
    const tagging = taggingXml(tags);
    const { url, fields } = await createPresignedPost(this.s3, {
      Bucket: this.bucket,
      Key: key,
      Conditions: [
        ['content-length-range', size, size],
        ['eq', '$Content-Type', contentType],
        ['eq', '$tagging', tagging],
      ],
      Fields: { 'Content-Type': contentType, tagging },
      Expires: expiresSeconds,
    });
    return { url, fields, expiresAt: new Date(Date.now() + expiresSeconds * 1000) };
  }

  async presignDownload(key: string, expiresSeconds: number): Promise<{ url: string; expiresAt: Date }> {
    const url = await getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresSeconds,
    });
    return { url, expiresAt: new Date(Date.now() + expiresSeconds * 1000) };
  }

  /**
   * The object's size, or null when there is none. S3 answers HeadObject of a missing key with 404 only to
   * callers allowed s3:ListBucket; the functions are not (they need no listing), so S3 answers them 403, and
   * 403 means missing here too: the grant allows s3:GetObject on every attachment key, so a 403 cannot be a
   * real refusal of an object that exists.
   */
  async sizeOf(key: string): Promise<number | null> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? null;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // Without s3:ListBucket (not granted: the functions never list), S3 answers a missing key with 403, not 404.
      const name = (error as { name?: string }).name;
      if (status === 404 || status === 403 || name === 'NotFound' || name === 'Forbidden') return null;
      throw error;
    }
  }

  async retag(key: string, tags: Record<string, string>): Promise<void> {
    await this.s3.send(
      new PutObjectTaggingCommand({
        Bucket: this.bucket,
        Key: key,
        Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      }),
    );
  }

  async remove(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
