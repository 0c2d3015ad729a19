import { randomBytes, randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@ciphertalk/functions/adapters/aws.ts';
import { createPostgresDb } from '@ciphertalk/functions/adapters/postgres.ts';
import { S3ObjectStore } from '@ciphertalk/functions/adapters/s3-object-store.ts';
import { sweepUploads } from '@ciphertalk/functions/domain/attachments.ts';
import type { Conversation, CreateAttachmentResponse } from '@ciphertalk/shared/protocol';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopesFor, type LiveDevice, liveUser } from './support/live.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/**
 * Encrypted attachments through the twin: real handlers, real PostgreSQL, the embedded S3 emulator behind the
 * verifier that enforces what S3 does (signatures, POST policies, expiry): both the server's own checks and
 * the store's refusals are tested, and the policy the server signs is read back.
 */
const MAX = 64 * 1024;
const QUOTA = 3 * MAX;
const fx = stackOnFreshSchema({
  env: { RATE_LIMIT_MULTIPLIER: '100', ATTACHMENT_MAX_BYTES: String(MAX), ATTACHMENT_QUOTA_BYTES: String(QUOTA) },
});

let sql: Client;
beforeAll(async () => {
  sql = new Client({ connectionString: fx.schema.url });
  await sql.connect();
});
afterAll(() => sql?.end());
const open: LiveDevice[] = [];
afterAll(() => Promise.all(open.map((device) => device.close())));

async function user(label: string) {
  const account = await liveUser(fx.stack.restUrl, fx.stack.wsUrl, label);
  const device = await account.device();
  open.push(device);
  return device;
}

async function direct(a: LiveDevice, b: LiveDevice): Promise<string> {
  const answer = await a.client.post('/conversations', { kind: 'direct', userId: b.userId });
  return (answer.body.conversation as Conversation).id;
}

async function slot(device: LiveDevice, conversationId: string, size: number) {
  const answer = await device.client.post('/attachments', { conversationId, size });
  expect(answer.status, answer.text).toBe(201);
  return answer.body as unknown as CreateAttachmentResponse;
}

/** Uploads as a browser does: a multipart POST of the policy's fields, then the file. */
async function upload(created: CreateAttachmentResponse, bytes: Uint8Array) {
  const form = new FormData();
  for (const [name, value] of Object.entries(created.upload.fields)) form.append(name, value);
  form.append('file', new Blob([bytes], { type: 'application/octet-stream' }));
  const response = await fetch(created.upload.url, { method: 'POST', body: form });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
}

/** Writes an object straight into the store with the SDK, past the browser path and its policy. */
async function plant(key: string, bytes: Uint8Array) {
  const s3 = createS3Client('us-east-1', process.env.S3_ENDPOINT);
  try {
    await s3.send(new PutObjectCommand({ Bucket: process.env.ATTACHMENTS_BUCKET ?? '', Key: key, Body: bytes }));
  } finally {
    s3.destroy();
  }
}

/** An S3 error answer: its status and `<Code>`. */
async function refusal(response: Response) {
  const text = await response.text();
  return { status: response.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? text };
}

const send = (from: LiveDevice, to: LiveDevice, conversationId: string, attachmentIds: string[], id = randomUUID()) =>
  from.client.post(`/conversations/${conversationId}/messages`, {
    clientMessageId: id,
    envelopes: envelopesFor([to.address]),
    attachmentIds,
  });

const counts = async () => (await sql.query<{ m: string }>('SELECT (SELECT count(*) FROM messages) AS m')).rows[0];

describe('attachments', () => {
  it('round trip: a slot whose policy pins key, size and type; upload; message; members download the same bytes', async () => {
    const alice = await user('at-alice');
    const bob = await user('at-bob');
    const eve = await user('at-eve');
    const id = await direct(alice, bob);
    const ciphertext = randomBytes(40_000);

    const created = await slot(alice, id, ciphertext.length);

    const policy = JSON.parse(Buffer.from(created.upload.fields.Policy ?? '', 'base64').toString()) as {
      expiration: string;
      conditions: unknown[];
    };
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', ciphertext.length, ciphertext.length],
        ['eq', '$Content-Type', 'application/octet-stream'],
        { key: `attachments/${created.attachment.id}` },
        ['eq', '$tagging', expect.stringContaining('<Value>unreferenced</Value>')],
      ]),
    );
    expect(Date.parse(policy.expiration) - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    await upload(created, ciphertext);
    // Not sent yet: the uploader may fetch it, the other member not.
    expect((await bob.client.get(`/attachments/${created.attachment.id}`)).status).toBe(404);
    const sent = await send(alice, bob, id, [created.attachment.id]);
    expect(sent.status, sent.text).toBe(201);

    const link = await bob.client.get(`/attachments/${created.attachment.id}`);
    expect(link.status).toBe(200);
    expect(link.body).toMatchObject({ size: ciphertext.length });
    expect(String(link.body.url)).toContain('X-Amz-Expires=300');
    const downloaded = Buffer.from(await (await fetch(String(link.body.url))).arrayBuffer());
    expect(downloaded.equals(ciphertext)).toBe(true);

    const snooping = await eve.client.get(`/attachments/${created.attachment.id}`);
    const unknown = await eve.client.get(`/attachments/${randomUUID()}`);
    expect(snooping.status).toBe(404);
    expect(snooping.body).toEqual(unknown.body);
    const intruding = await eve.client.post('/attachments', { conversationId: id, size: 10 });
    expect(intruding.status).toBe(404);
    expect(intruding.body).toEqual({ error: { code: 'not_found', message: 'No such conversation' } });
  });

  it('refuses a message whose attachment is missing, mis-sized, another conversation’s, someone else’s or used', async () => {
    const alice = await user('av-alice');
    const bob = await user('av-bob');
    const carol = await user('av-carol');
    const withBob = await direct(alice, bob);
    const withCarol = await direct(alice, carol);
    const short = await slot(alice, withBob, 1_000);
    // The store refuses this upload (see below): planted past the policy, the server's own check must catch it.
    await plant(`attachments/${short.attachment.id}`, randomBytes(999));
    const never = await slot(alice, withBob, 500);
    const elsewhere = await slot(alice, withCarol, 100);
    await upload(elsewhere, randomBytes(100));
    const bobs = await slot(bob, withBob, 100);
    await upload(bobs, randomBytes(100));
    const before = await counts();

    const answers = {
      misSized: await send(alice, bob, withBob, [short.attachment.id]),
      notUploaded: await send(alice, bob, withBob, [never.attachment.id]),
      otherConversation: await send(alice, bob, withBob, [elsewhere.attachment.id]),
      notHers: await send(alice, bob, withBob, [bobs.attachment.id]),
      madeUp: await send(alice, bob, withBob, [randomUUID()]),
    };

    expect(answers.misSized.body.error).toMatchObject({
      code: 'attachment_invalid',
      issues: [{ path: short.attachment.id, message: 'not the declared size' }],
    });
    expect(answers.notUploaded.body.error).toMatchObject({ issues: [{ message: 'not uploaded' }] });
    for (const answer of [answers.otherConversation, answers.notHers, answers.madeUp]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'attachment_invalid', issues: [{ message: 'unknown' }] });
    }
    expect(await counts()).toEqual(before);

    // Used once; a retry of that message is fine, a second message with it is not.
    const good = await slot(alice, withBob, 64);
    await upload(good, randomBytes(64));
    const messageId = randomUUID();
    expect((await send(alice, bob, withBob, [good.attachment.id], messageId)).status).toBe(201);
    expect((await send(alice, bob, withBob, [good.attachment.id], messageId)).status).toBe(200);
    const reuse = await send(alice, bob, withBob, [good.attachment.id]);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toMatchObject({ code: 'attachment_invalid', issues: [{ message: 'not usable' }] });
  });

  it('the store itself refuses an upload whose size differs from the slot’s, and links expired or tampered', async () => {
    const alice = await user('ar-alice');
    const bob = await user('ar-bob');
    const id = await direct(alice, bob);
    const created = await slot(alice, id, 1_000);
    const post = (bytes: Uint8Array, change: Record<string, string> = {}) => {
      const form = new FormData();
      for (const [name, value] of Object.entries({ ...created.upload.fields, ...change })) form.append(name, value);
      form.append('file', new Blob([bytes], { type: 'application/octet-stream' }));
      return fetch(created.upload.url, { method: 'POST', body: form });
    };

    expect(await refusal(await post(randomBytes(999)))).toEqual({ status: 400, code: 'EntityTooSmall' });
    expect(await refusal(await post(randomBytes(1_001)))).toEqual({ status: 400, code: 'EntityTooLarge' });
    expect(await refusal(await post(randomBytes(1_000), { 'Content-Type': 'text/html' }))).toEqual({
      status: 403,
      code: 'AccessDenied',
    });
    const refused = await send(alice, bob, id, [created.attachment.id]);
    expect(refused.body.error).toMatchObject({ issues: [{ message: 'not uploaded' }] });

    const ciphertext = randomBytes(1_000);
    expect((await post(ciphertext)).status).toBe(204);
    expect((await send(alice, bob, id, [created.attachment.id])).status).toBe(201);
    const link = new URL(String((await bob.client.get(`/attachments/${created.attachment.id}`)).body.url));
    const extended = new URL(link);
    extended.searchParams.set('X-Amz-Expires', '604800');
    const elsewhere = new URL(link);
    elsewhere.pathname = elsewhere.pathname.replace(created.attachment.id, randomUUID());
    const s3 = createS3Client('us-east-1', process.env.S3_ENDPOINT);
    const store = new S3ObjectStore(s3, process.env.ATTACHMENTS_BUCKET ?? '');
    const shortLived = await store.presignDownload(`attachments/${created.attachment.id}`, 1);
    s3.destroy();
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    expect(Buffer.from(await (await fetch(link)).arrayBuffer()).equals(ciphertext)).toBe(true);
    expect(await refusal(await fetch(shortLived.url))).toEqual({ status: 403, code: 'AccessDenied' });
    for (const tampered of [extended, elsewhere]) {
      expect(await refusal(await fetch(tampered))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    }
  });

  it('enforces the size limit and the per-user quota, pending uploads included', async () => {
    const alice = await user('aq-alice');
    const bob = await user('aq-bob');
    const id = await direct(alice, bob);

    const tooBig = await alice.client.post('/attachments', { conversationId: id, size: MAX + 1 });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toMatchObject({ code: 'payload_too_large' });
    for (let i = 0; i < 3; i++) await slot(alice, id, MAX);
    const over = await alice.client.post('/attachments', { conversationId: id, size: 1 });
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({ code: 'quota_exceeded' });
    expect((await bob.client.post('/attachments', { conversationId: id, size: 1 })).status).toBe(201);
    for (const bad of [{ conversationId: id, size: 0 }, { conversationId: id }, { conversationId: 'x', size: 1 }]) {
      expect((await alice.client.post('/attachments', bad)).status).toBe(400);
    }
  });

  it('holds the quota when one user asks for many slots at once', async () => {
    const carol = await user('aq-carol');
    const dave = await user('aq-dave');
    const id = await direct(carol, dave);

    const answers = await Promise.all(
      Array.from({ length: 8 }, () => carol.client.post('/attachments', { conversationId: id, size: MAX })),
    );

    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 201, 201, 403, 403, 403, 403, 403]);
    const [stored] = (
      await sql.query<{ bytes: string }>('SELECT sum(size)::text AS bytes FROM attachments WHERE owner_id = $1', [
        carol.userId,
      ])
    ).rows;
    expect(Number(stored?.bytes)).toBe(QUOTA);
  });

  it('sweeps uploads no message referenced within a day, and keeps the rest', async () => {
    const alice = await user('as-alice');
    const bob = await user('as-bob');
    const id = await direct(alice, bob);
    const orphan = await slot(alice, id, 32);
    await upload(orphan, randomBytes(32));
    const kept = await slot(alice, id, 32);
    await upload(kept, randomBytes(32));
    expect((await send(alice, bob, id, [kept.attachment.id])).status).toBe(201);
    await sql.query(`UPDATE attachments SET created_at = now() - interval '25 hours'`);
    const store = new S3ObjectStore(
      createS3Client('us-east-1', process.env.S3_ENDPOINT),
      process.env.ATTACHMENTS_BUCKET ?? '',
    );
    const db = createPostgresDb(fx.schema.url, { max: 1 });
    try {
      expect(await store.sizeOf(`attachments/${orphan.attachment.id}`)).toBe(32);

      expect(await sweepUploads({ db, store }, new Date())).toBeGreaterThanOrEqual(1);

      expect(await store.sizeOf(`attachments/${orphan.attachment.id}`)).toBeNull();
      expect(await store.sizeOf(`attachments/${kept.attachment.id}`)).toBe(32);
      const { rows } = await sql.query('SELECT id FROM attachments WHERE id = $1', [orphan.attachment.id]);
      expect(rows).toEqual([]);
      expect((await bob.client.get(`/attachments/${kept.attachment.id}`)).status).toBe(200);
    } finally {
      await db.close();
    }
  });
});
