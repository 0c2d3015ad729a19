/**
 * Attachments and call signalling, measured with their floors in the same run.
 *
 * The browser's attachment crypto (encrypt and decrypt throughput) is in `npm run bench:crypto`.
 *
 * 1. Through the local twin (real handlers, PostgreSQL and Redis; s3rver behind the SigV4/POST-policy
 *    verifier): an upload slot (`POST /attachments`) beside an authenticated read (`GET /me`); an upload by
 *    presigned POST through the verifier beside the SDK's PutObject straight to s3rver (no verifier); a message that references an attachment
 *    beside one that does not (the server's existence check); a presigned GET and its download.
 * 2. Call signalling: `call.signal` relayed from one socket to another beside `message.send` (stored, then
 *    delivered) between the same two devices.
 *
 * Services: TEST_DATABASE_URL (a fresh schema, dropped after) and BENCH_REDIS_URL (default logical db 14 of
 * TEST_REDIS_URL, flushed). `npm run bench:media`. Figures, not assertions.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@ciphertalk/functions/adapters/aws.ts';
import { freshSchema, testRedisUrl } from '@ciphertalk/functions/test/support/services.ts';
import type { Conversation, CreateAttachmentResponse } from '@ciphertalk/shared/protocol';
import { Redis } from 'ioredis';
import { startS3rver } from '../local/services/s3.ts';
import { startS3Verifier } from '../local/services/s3-verifier.ts';
import { startLocalStack } from '../local/stack.ts';
import { envelopesFor, type LiveDevice, liveUser } from '../test/support/live.ts';
import { row as latencyRow, type Stats, stats } from './support/latency.ts';

const MiB = 1024 * 1024;
const ROUNDS = 300;
const SMALL_UPLOAD = 1 * MiB;
const SMALL_UPLOADS = 50;
const LARGE_UPLOAD = 32 * MiB;
const LARGE_UPLOADS = 3;
const SIGNALS = 500;

const row = (name: string, s: Stats) => latencyRow(name, s, 52);
const rate = (name: string, bytes: number, millis: number) =>
  console.log(`  ${name.padEnd(52)} ${((bytes / MiB / millis) * 1000).toFixed(1).padStart(7)} MiB/s`);

async function timed(rounds: number, step: (i: number) => Promise<unknown>): Promise<Stats> {
  const values: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await step(i);
    values.push(performance.now() - start);
  }
  return stats(values);
}

async function twinSection(): Promise<void> {
  const schema = await freshSchema();
  const redisUrl = process.env.BENCH_REDIS_URL ?? `${testRedisUrl.replace(/\/\d*$/, '')}/14`;
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  const s3rver = await startS3rver({ dataDir: null, port: 0 });
  const verifier = await startS3Verifier({
    target: s3rver.endpoint,
    port: 0,
    credentials: { S3RVER: 'S3RVER' },
    allowedOrigins: ['http://localhost:5173'],
  });
  const stack = await startLocalStack({
    dataDir: null,
    ports: { rest: 0, ws: 0, web: null },
    env: {
      DATABASE_URL: schema.url,
      REDIS_URL: redisUrl,
      S3_ENDPOINT: verifier.endpoint,
      RATE_LIMIT_MULTIPLIER: '1000',
      ATTACHMENT_QUOTA_BYTES: String(100 * 1024 * MiB),
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  });
  const devices: LiveDevice[] = [];
  try {
    const user = async (label: string) => {
      const device = await (await liveUser(stack.restUrl, stack.wsUrl, label)).device();
      devices.push(device);
      return device;
    };
    const alice = await user('bench-alice');
    const bob = await user('bench-bob');
    const created = await alice.client.post('/conversations', { kind: 'direct', userId: bob.userId });
    const conversationId = (created.body.conversation as Conversation).id;

    const slot = async (size: number) => {
      const answer = await alice.client.post('/attachments', { conversationId, size });
      if (answer.status !== 201) throw new Error(`slot: ${answer.status} ${answer.text}`);
      return answer.body as unknown as CreateAttachmentResponse;
    };
    const upload = async (target: CreateAttachmentResponse, bytes: Uint8Array) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(target.upload.fields)) form.append(name, value);
      form.append('file', new Blob([bytes], { type: 'application/octet-stream' }));
      const response = await fetch(target.upload.url, { method: 'POST', body: form });
      if (response.status >= 300) throw new Error(`upload: ${response.status} ${await response.text()}`);
    };
    const send = async (attachmentIds: string[]) => {
      const answer = await alice.client.post(`/conversations/${conversationId}/messages`, {
        clientMessageId: randomUUID(),
        envelopes: envelopesFor([bob.address]),
        ...(attachmentIds.length > 0 ? { attachmentIds } : {}),
      });
      if (answer.status !== 201) throw new Error(`send: ${answer.status} ${answer.text}`);
    };

    // warm-up: every handler's container and pool
    for (let i = 0; i < 20; i++) {
      await alice.client.get('/me');
      const warm = await slot(1024);
      await upload(warm, randomBytes(1024));
      await send([warm.attachment.id]);
      await bob.client.get(`/attachments/${warm.attachment.id}`);
    }

    console.log('\nThrough the local twin (real handlers, PostgreSQL, Redis; s3rver behind the verifier):');
    row('floor: GET /me (authenticated read)', await timed(ROUNDS, () => alice.client.get('/me')));
    row('POST /attachments (slot: quota sum, row, presigned POST)', await timed(ROUNDS, () => slot(1024)));

    const small = new Uint8Array(randomBytes(SMALL_UPLOAD));
    const smallSlots = await Promise.all(Array.from({ length: SMALL_UPLOADS }, () => slot(SMALL_UPLOAD)));
    let start = performance.now();
    for (const target of smallSlots) await upload(target, small);
    rate(
      `presigned POST via the verifier, ${SMALL_UPLOAD / MiB} MiB x ${SMALL_UPLOADS}`,
      SMALL_UPLOAD * SMALL_UPLOADS,
      performance.now() - start,
    );
    const direct = createS3Client('us-east-1', s3rver.endpoint);
    const s3rverPut = (key: string, bytes: Uint8Array) =>
      direct.send(new PutObjectCommand({ Bucket: 'ciphertalk-attachments-local', Key: key, Body: bytes }));
    start = performance.now();
    for (let i = 0; i < SMALL_UPLOADS; i++) await s3rverPut(`bench/small-${i}`, small);
    rate(
      `floor: SDK PutObject straight to s3rver, ${SMALL_UPLOAD / MiB} MiB x ${SMALL_UPLOADS}`,
      SMALL_UPLOAD * SMALL_UPLOADS,
      performance.now() - start,
    );

    const large = new Uint8Array(randomBytes(LARGE_UPLOAD));
    const largeSlots = await Promise.all(Array.from({ length: LARGE_UPLOADS }, () => slot(LARGE_UPLOAD)));
    start = performance.now();
    for (const target of largeSlots) await upload(target, large);
    rate(
      `presigned POST via the verifier, ${LARGE_UPLOAD / MiB} MiB x ${LARGE_UPLOADS}`,
      LARGE_UPLOAD * LARGE_UPLOADS,
      performance.now() - start,
    );
    start = performance.now();
    for (let i = 0; i < LARGE_UPLOADS; i++) await s3rverPut(`bench/large-${i}`, large);
    rate(
      `floor: SDK PutObject straight to s3rver, ${LARGE_UPLOAD / MiB} MiB x ${LARGE_UPLOADS}`,
      LARGE_UPLOAD * LARGE_UPLOADS,
      performance.now() - start,
    );

    const tiny = new Uint8Array(randomBytes(1024));
    const referable = await Promise.all(Array.from({ length: ROUNDS * 3 }, () => slot(tiny.length)));
    for (const target of referable) await upload(target, tiny);
    row('floor: message without attachments (REST)', await timed(ROUNDS, () => send([])));
    row(
      'message referencing 1 attachment (HEAD, tag, row)',
      await timed(ROUNDS, (i) => send([referable[i]?.attachment.id ?? ''])),
    );
    const pair = (i: number) => [ROUNDS + 2 * i, ROUNDS + 2 * i + 1].map((n) => referable[n]?.attachment.id ?? '');
    row('message referencing 2 (a photo and its thumbnail)', await timed(ROUNDS, (i) => send(pair(i))));

    const ids = smallSlots.map((target) => target.attachment.id);
    for (let i = 0; i < ids.length; i += 10) await send(ids.slice(i, i + 10));
    row(
      'GET /attachments/{id} (presigned GET, member check)',
      await timed(ROUNDS, (i) => bob.client.get(`/attachments/${ids[i % ids.length]}`)),
    );
    const downloads: number[] = [];
    start = performance.now();
    for (const id of ids) {
      const link = await bob.client.get(`/attachments/${id}`);
      const began = performance.now();
      const bytes = await (await fetch(String(link.body.url))).arrayBuffer();
      if (bytes.byteLength !== SMALL_UPLOAD) throw new Error('download size differs');
      downloads.push(performance.now() - began);
    }
    rate(
      `link + download via the verifier, ${SMALL_UPLOAD / MiB} MiB x ${ids.length}`,
      SMALL_UPLOAD * ids.length,
      performance.now() - start,
    );
    row(`download alone, ${SMALL_UPLOAD / MiB} MiB`, stats(downloads));

    console.log('\nCall signalling between two connected devices (send → the other device receives):');
    const relay = async (action: 'call.signal' | 'message.send') => {
      const marker = randomUUID();
      const envelope = { ...bob.address, type: 'signal' as const, ciphertext: Buffer.from(marker).toString('base64') };
      const frame =
        action === 'call.signal'
          ? { action, conversationId, callId: randomUUID(), envelopes: [envelope] }
          : { action, conversationId, message: { clientMessageId: randomUUID(), envelopes: [envelope] } };
      const arrived = new Promise<void>((resolve) => {
        const listen = (data: unknown) => {
          if (!String(data).includes(envelope.ciphertext)) return;
          bob.socket.off('message', listen);
          resolve();
        };
        bob.socket.on('message', listen);
      });
      const answered = alice.request(frame);
      const [answer] = await Promise.all([answered, arrived]);
      if (answer.type !== 'ack') throw new Error(`${action}: ${JSON.stringify(answer)}`);
    };
    for (let i = 0; i < 50; i++) await relay('call.signal');
    for (let i = 0; i < 50; i++) await relay('message.send');
    row('peer: message.send (stored, then delivered)', await timed(SIGNALS, () => relay('message.send')));
    row('call.signal (relayed, never stored)', await timed(SIGNALS, () => relay('call.signal')));
  } finally {
    await Promise.all(devices.map((device) => device.close()));
    await stack.stop();
    await verifier.close();
    await s3rver.close();
    await redis.flushdb();
    redis.disconnect();
    await schema.drop();
  }
}

async function main() {
  console.log('CipherTalk media benchmark: attachments and call signalling\n');
  await twinSection();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
