/** A presigned browser upload: a multipart POST of `fields` then the file, to `url`. */
export interface PresignedUpload {
  readonly url: string;
  readonly fields: Record<string, string>;
  readonly expiresAt: Date;
}

/**
 * Where encrypted attachments live (S3 in AWS, s3rver or LocalStack locally). The browser moves the bytes
 * with presigned requests; the functions only sign, look and tag.
 */
export interface ObjectStore {
  /** A POST whose policy pins the key, the exact size, the content type, the tags and the expiry. */
  presignUpload(
    key: string,
    size: number,
    contentType: string,
    expiresSeconds: number,
    tags: Record<string, string>,
  ): Promise<PresignedUpload>;
  /** A GET of the object, valid `expiresSeconds`. */
  presignDownload(key: string, expiresSeconds: number): Promise<{ url: string; expiresAt: Date }>;
  /** The object's size, or null when there is none. */
  sizeOf(key: string): Promise<number | null>;
  /** Replaces the object's tags (an S3 lifecycle rule expires objects still tagged unreferenced). */
  retag(key: string, tags: Record<string, string>): Promise<void>;
  remove(key: string): Promise<void>;
}
