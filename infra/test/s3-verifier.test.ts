import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedS3, startS3rver } from '../local/services/s3.ts';
import { type S3Verifier, startS3Verifier } from '../local/services/s3-verifier.ts';

/**
 * A real s3rver behind a real verifier, driven by the real SDK: what S3 would refuse is refused before
 * s3rver (which checks nothing) sees it, and what S3 would accept still reaches s3rver.
 */
const BUCKET = 'verifier-test';
const ORIGIN = 'http://localhost:5173';
const KEY = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const tagging = '<Tagging><TagSet><Tag><Key>ciphertalk:state</Key><Value>unreferenced</Value></Tag></TagSet></Tagging>';

let emulator: EmbeddedS3;
let verifier: S3Verifier;
let s3: S3Client;
/** The same SDK, holding a secret the verifier does not know for this key id. */
let forger: S3Client;

const client = (endpoint: string, credentials = KEY) =>
  new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

beforeAll(async () => {
  emulator = await startS3rver({ dataDir: null, port: 0 });
  verifier = await startS3Verifier({
    target: emulator.endpoint,
    port: 0,
    credentials: { [KEY.accessKeyId]: KEY.secretAccessKey },
    allowedOrigins: [ORIGIN],
  });
  s3 = client(verifier.endpoint);
  forger = client(verifier.endpoint, { accessKeyId: KEY.accessKeyId, secretAccessKey: 'not-the-secret' });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  s3?.destroy();
  forger?.destroy();
  await verifier?.close();
  await emulator?.close();
});

/** An S3 error answer: its status and `<Code>`. */
async function refusal(response: Response) {
  const text = await response.text();
  return { status: response.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? text };
}

async function stored(key: string, bytes: Uint8Array) {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
}

/** A slot as the attachments adapter signs it: key, exact size, content type and tag pinned. */
function slot(key: string, size: number, expires = 60) {
  return createPresignedPost(s3, {
    Bucket: BUCKET,
    Key: key,
    Conditions: [
      ['content-length-range', size, size],
      ['eq', '$Content-Type', 'application/octet-stream'],
      ['eq', '$tagging', tagging],
    ],
    Fields: { 'Content-Type': 'application/octet-stream', tagging },
    Expires: expires,
  });
}

/** Uploads as a browser does: the fields in order, some replaced or added, then the file. */
function post(
  upload: { url: string; fields: Record<string, string> },
  bytes: Uint8Array,
  change: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...upload.fields, ...change })) form.append(name, value);
  form.append('file', new Blob([bytes], { type: 'application/octet-stream' }));
  return fetch(upload.url, { method: 'POST', body: form, headers: { origin: ORIGIN } });
}

async function size(key: string): Promise<number | null> {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength ?? null;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound') return null;
    throw error;
  }
}

describe('presigned GET', () => {
  it('serves a valid link, with CORS for the SPA', async () => {
    const bytes = randomBytes(1234);
    await stored('get/valid', bytes);
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'get/valid' }), { expiresIn: 60 });

    const response = await fetch(url, { headers: { origin: ORIGIN } });

    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('refuses a link whose time is up', async () => {
    await stored('get/expired', randomBytes(10));
    const command = new GetObjectCommand({ Bucket: BUCKET, Key: 'get/expired' });
    const url = await getSignedUrl(s3, command, { expiresIn: 300, signingDate: new Date(Date.now() - 301_000) });
    const fresh = await getSignedUrl(s3, command, { expiresIn: 300, signingDate: new Date(Date.now() - 290_000) });

    expect(await refusal(await fetch(url))).toEqual({ status: 403, code: 'AccessDenied' });
    expect((await fetch(fresh)).status).toBe(200);
  });

  it('refuses a tampered signature, key, expiry, or a link signed with another secret', async () => {
    await stored('get/one', randomBytes(10));
    await stored('get/two', randomBytes(10));
    const url = new URL(
      await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'get/one' }), { expiresIn: 60 }),
    );
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    const flipped = new URL(url);
    flipped.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace('get/one', 'get/two');
    const longer = new URL(url);
    longer.searchParams.set('X-Amz-Expires', '3600');
    const forged = await getSignedUrl(forger, new GetObjectCommand({ Bucket: BUCKET, Key: 'get/one' }), {
      expiresIn: 60,
    });

    expect((await fetch(url)).status).toBe(200);
    for (const bad of [flipped.toString(), otherKey.toString(), longer.toString(), forged]) {
      expect(await refusal(await fetch(bad))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    }
  });

  it('refuses unsigned requests, as a private bucket does', async () => {
    await stored('get/private', randomBytes(10));

    expect(await refusal(await fetch(`${verifier.endpoint}/${BUCKET}/get/private`))).toEqual({
      status: 403,
      code: 'AccessDenied',
    });
  });
});

describe('requests signed in the Authorization header', () => {
  it('passes the SDK’s own calls (put, tag, head) and refuses one signed with the wrong secret', async () => {
    await stored('sdk/object', randomBytes(77));
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: BUCKET,
        Key: 'sdk/object',
        Tagging: { TagSet: [{ Key: 'ciphertalk:state', Value: 'referenced' }] },
      }),
    );

    expect(await size('sdk/object')).toBe(77);
    await expect(forger.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk/object' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    await expect(
      forger.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/forged', Body: 'x' })),
    ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    expect(await size('sdk/forged')).toBeNull();
  });
});

describe('browser POST upload', () => {
  it('stores an upload that meets its policy, and answers the SPA with CORS', async () => {
    const bytes = randomBytes(1000);
    const upload = await slot('post/valid', bytes.length);

    const response = await post(upload, bytes);

    expect(response.status, await response.clone().text()).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(await size('post/valid')).toBe(1000);
  });

  it('refuses a file one byte larger or smaller than the content-length-range', async () => {
    const larger = await slot('post/larger', 1000);
    const smaller = await slot('post/smaller', 1000);

    expect(await refusal(await post(larger, randomBytes(1001)))).toEqual({ status: 400, code: 'EntityTooLarge' });
    expect(await refusal(await post(smaller, randomBytes(999)))).toEqual({ status: 400, code: 'EntityTooSmall' });
    expect(await size('post/larger')).toBeNull();
    expect(await size('post/smaller')).toBeNull();
  });

  it('refuses another key, content type or tagging than the policy’s, and fields it does not cover', async () => {
    const upload = await slot('post/pinned', 10);
    const changes: Record<string, string>[] = [
      { key: 'post/elsewhere' },
      { 'Content-Type': 'text/html' },
      { tagging: tagging.replace('unreferenced', 'referenced') },
      { 'x-amz-meta-owner': 'mallory' },
    ];

    for (const change of changes) {
      expect(await refusal(await post(upload, randomBytes(10), change)), JSON.stringify(change)).toEqual({
        status: 403,
        code: 'AccessDenied',
      });
    }
    expect(await size('post/pinned')).toBeNull();
    expect(await size('post/elsewhere')).toBeNull();
  });

  it('refuses a second key field, which s3rver would store under instead of the first', async () => {
    const upload = await slot('post/twice', 10);
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append('key', 'post/smuggled');
    form.append('file', new Blob([randomBytes(10)]));

    expect((await fetch(upload.url, { method: 'POST', body: form })).status).toBe(400);
    expect(await size('post/smuggled')).toBeNull();
  });

  it('refuses an expired policy', async () => {
    const upload = await slot('post/expired', 10, -1);

    const answer = await refusal(await post(upload, randomBytes(10)));

    expect(answer).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await size('post/expired')).toBeNull();
  });

  it('refuses a policy whose signature does not match: loosened, re-signed with another secret, or tampered', async () => {
    const upload = await slot('post/forged', 10);
    const policy = JSON.parse(Buffer.from(upload.fields.Policy ?? '', 'base64').toString()) as {
      conditions: unknown[];
    };
    policy.conditions = policy.conditions.map((condition) =>
      Array.isArray(condition) && condition[0] === 'content-length-range'
        ? ['content-length-range', 0, 10_000]
        : condition,
    );
    const loosened = { Policy: Buffer.from(JSON.stringify(policy)).toString('base64') };
    const resigned = await createPresignedPost(forger, {
      Bucket: BUCKET,
      Key: 'post/forged',
      Conditions: [['content-length-range', 0, 10_000]],
      Expires: 60,
    });
    const signature = upload.fields['X-Amz-Signature'] ?? '';
    const tampered = { 'X-Amz-Signature': `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}` };

    for (const [attempt, change] of [
      [upload, loosened],
      [resigned, {}],
      [upload, tampered],
    ] as const) {
      expect(await refusal(await post(attempt, randomBytes(5_000), change))).toEqual({
        status: 403,
        code: 'SignatureDoesNotMatch',
      });
    }
    expect(await size('post/forged')).toBeNull();
  });
});

describe('what is refused', () => {
  it('never reaches the emulator', async () => {
    const reached: string[] = [];
    const target = createServer((req, res) => {
      reached.push(`${req.method} ${req.url?.split('?')[0]}`);
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const front = await startS3Verifier({
      target: `http://127.0.0.1:${(target.address() as AddressInfo).port}`,
      port: 0,
      credentials: { [KEY.accessKeyId]: KEY.secretAccessKey },
      allowedOrigins: [],
    });
    const signer = client(front.endpoint);
    try {
      const command = new GetObjectCommand({ Bucket: BUCKET, Key: 'counted' });
      const expired = await getSignedUrl(signer, command, {
        expiresIn: 60,
        signingDate: new Date(Date.now() - 61_000),
      });
      const valid = await getSignedUrl(signer, command, { expiresIn: 60 });
      const upload = await createPresignedPost(signer, {
        Bucket: BUCKET,
        Key: 'counted',
        Conditions: [['content-length-range', 10, 10]],
        Expires: 60,
      });

      expect(await refusal(await fetch(expired))).toEqual({ status: 403, code: 'AccessDenied' });
      expect(await refusal(await post(upload, randomBytes(11)))).toEqual({ status: 400, code: 'EntityTooLarge' });
      expect(reached).toEqual([]);
      expect((await fetch(valid)).status).toBe(204);
      expect((await post(upload, randomBytes(10))).status).toBe(204);
      expect(reached).toEqual([`GET /${BUCKET}/counted`, `POST /${BUCKET}`]);
    } finally {
      signer.destroy();
      await front.close();
      await new Promise((resolve) => target.close(resolve));
    }
  });
});

describe('CORS preflight', () => {
  it('answers the SPA’s origin and refuses others', async () => {
    const ask = (origin: string) =>
      fetch(`${verifier.endpoint}/${BUCKET}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });

    const allowed = await ask(ORIGIN);
    const other = await ask('http://evil.example');

    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('with the twin’s IAM (authorize)', () => {
  /** A stub evaluator: a call passes when its action is allowed on a resource starting with the given prefix. */
  const withPermissions = async (allowed: readonly [action: string, resourcePrefix: string][]) => {
    const asked: string[] = [];
    const front = await startS3Verifier({
      target: emulator.endpoint,
      port: 0,
      credentials: { [KEY.accessKeyId]: KEY.secretAccessKey },
      allowedOrigins: [ORIGIN],
      authorize: async ({ action, resource }) => {
        asked.push(`${action} ${resource}`);
        return allowed.some(([a, prefix]) => a === action && resource.startsWith(prefix))
          ? null
          : { principalArn: 'arn:aws:sts::000000000000:assumed-role/r/f', action, resource, message: `no ${action}` };
      },
    });
    return { front, signer: client(front.endpoint), asked };
  };
  const objects = `arn:aws:s3:::${BUCKET}/iam/`;

  it('answers HeadObject and GetObject of a missing key 404 with s3:ListBucket on the bucket, 403 without', async () => {
    const lister = await withPermissions([
      ['s3:GetObject', objects],
      ['s3:ListBucket', `arn:aws:s3:::${BUCKET}`],
    ]);
    const reader = await withPermissions([['s3:GetObject', objects]]);
    try {
      const head = (s3client: S3Client) =>
        s3client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'iam/missing' })).catch((error) => error);
      const get = (s3client: S3Client) =>
        s3client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'iam/missing' })).catch((error) => error);

      expect((await head(lister.signer)).$metadata.httpStatusCode).toBe(404);
      expect(await get(lister.signer)).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      expect((await head(reader.signer)).$metadata.httpStatusCode).toBe(403);
      expect(await get(reader.signer)).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      expect(lister.asked).toContain(`s3:ListBucket arn:aws:s3:::${BUCKET}`);
    } finally {
      for (const { front, signer } of [lister, reader]) {
        signer.destroy();
        await front.close();
      }
    }
  });

  it('refuses what the signer may not do with AccessDenied, and a presigned link acts with its signer’s rights', async () => {
    await stored('iam/present', randomBytes(10));
    const { front, signer, asked } = await withPermissions([['s3:GetObject', objects]]);
    try {
      const put = await signer
        .send(new PutObjectCommand({ Bucket: BUCKET, Key: 'iam/new', Body: 'x' }))
        .catch((error) => error);
      const link = await getSignedUrl(signer, new GetObjectCommand({ Bucket: BUCKET, Key: 'iam/present' }), {
        expiresIn: 60,
      });
      const outside = await getSignedUrl(signer, new GetObjectCommand({ Bucket: BUCKET, Key: 'get/valid' }), {
        expiresIn: 60,
      });

      expect(put).toMatchObject({
        name: 'AccessDenied',
        message: 'no s3:PutObject',
        $metadata: { httpStatusCode: 403 },
      });
      expect((await fetch(link)).status).toBe(200);
      expect(await refusal(await fetch(outside))).toEqual({ status: 403, code: 'AccessDenied' });
      expect(asked).toContain(`s3:PutObject arn:aws:s3:::${BUCKET}/iam/new`);
    } finally {
      signer.destroy();
      await front.close();
    }
  });

  it('authorizes a browser POST upload as s3:PutObject, plus s3:PutObjectTagging for its tag, of the policy’s signer', async () => {
    const { front, signer, asked } = await withPermissions([['s3:PutObject', objects]]);
    try {
      const upload = await createPresignedPost(signer, {
        Bucket: BUCKET,
        Key: 'iam/upload',
        Conditions: [['eq', '$tagging', tagging]],
        Fields: { tagging },
        Expires: 60,
      });
      expect(await refusal(await post(upload, randomBytes(10)))).toEqual({ status: 403, code: 'AccessDenied' });
      expect(asked).toEqual([
        `s3:PutObject arn:aws:s3:::${BUCKET}/iam/upload`,
        `s3:PutObjectTagging arn:aws:s3:::${BUCKET}/iam/upload`,
      ]);
    } finally {
      signer.destroy();
      await front.close();
    }
  });
});
