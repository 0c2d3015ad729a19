/**
 * Messaging through the local twin with the real handlers on real PostgreSQL and Redis.
 *
 * - 500 connected clients (one user and device each); 250 direct conversations and one 100-member group.
 * - Send-to-delivery latency (sender's `message.send` frame → the recipient's `entry` frame), direct
 *   (sequential and all clients at once) and group (sender-key, 99 recipients): p50/p95/p99, messages/s,
 *   database statements and Redis commands per send, CPU per send.
 * - Floors measured in the same run on the same servers: a bare INSERT and a bare Redis HGETALL.
 * - History: BENCH_HISTORY_ROWS (default 10 million) messages, then a page of 50 through the REST
 *   handler and the plan of its query (EXPLAIN ANALYZE).
 *
 * Services: TEST_DATABASE_URL (a fresh schema, dropped after) and BENCH_REDIS_URL (default logical db 14
 * of TEST_REDIS_URL, flushed). `npm run bench:messaging`. Figures, not assertions.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { RedisConnectionRegistry } from '@ciphertalk/functions/adapters/redis-registry.ts';
import type { AccountDeps } from '@ciphertalk/functions/domain/accounts.ts';
import { issueWsTicket } from '@ciphertalk/functions/domain/ws-tickets.ts';
import { freshSchema, testRedisUrl } from '@ciphertalk/functions/test/support/services.ts';
import { Redis } from 'ioredis';
import pg from 'pg';
import WebSocket from 'ws';
import { startLocalStack } from '../local/stack.ts';
import { row, type Stats, stats } from './support/latency.ts';

const CLIENTS = 500;
const GROUP_SIZE = 100;
const DIRECT_SEQUENTIAL = 1_000;
/** Senders with a message in flight at once (the twin, the handlers and all clients share 2 cores). */
const CONCURRENT_SENDERS = 50;
const DIRECT_CONCURRENT = 2_000;
const GROUP_MESSAGES = 200;
const FLOOR_ROUNDS = 2_000;
const HISTORY_ROWS = Number(process.env.BENCH_HISTORY_ROWS ?? 10_000_000);
/** Conversations of 1,000 messages each. */
const HISTORY_CONVERSATIONS = Math.max(1, Math.round(HISTORY_ROWS / 1_000));
const HISTORY_PAGES = 300;

// ---- counting what the handlers do: every pg query and every Redis command in this process ----
const counters = { pg: 0, redis: 0 };
const pgQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  counters.pg += 1;
  return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;
const redisSend = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<typeof redisSend>) {
  counters.redis += 1;
  return redisSend.apply(this, args);
};

interface Client {
  readonly userId: string;
  readonly socket: WebSocket;
  pending: Map<string, (frame: Record<string, unknown>) => void>;
}

/** What each message's recipients saw: send time by message number, arrival times by message number. */
const sentAt = new Map<number, number>();
const arrivals = new Map<number, number[]>();
let messageNumber = 0;
const ciphertextFor = (n: number) => Buffer.from(`msg:${n}`.padEnd(48, '.')).toString('base64');

async function main() {
  const schema = await freshSchema();
  const redisUrl = process.env.BENCH_REDIS_URL ?? `${testRedisUrl.replace(/\/\d*$/, '')}/14`;
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  const sql = new pg.Client({ connectionString: schema.url });
  await sql.connect();
  const stack = await startLocalStack({
    dataDir: null,
    ports: { rest: 0, ws: 0, web: null },
    env: {
      DATABASE_URL: schema.url,
      REDIS_URL: redisUrl,
      RATE_LIMIT_MULTIPLIER: '1000',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  });
  const clients: Client[] = [];
  try {
    console.log(`CipherTalk messaging benchmark: ${CLIENTS} clients, real PostgreSQL and Redis, local twin`);
    const seeded = await seed(sql);
    const users = seeded.map((seed) => seed.userId);
    const registry = new RedisConnectionRegistry(redis);
    const deps = {
      db: { query: async () => [] },
      clock: () => new Date(),
      limiter: { hit: async () => ({ allowed: true, retryAfterSeconds: 0 }) },
      limitScale: 1,
      realtime: { registry },
    } as unknown as AccountDeps;
    const t0 = performance.now();
    for (let i = 0; i < users.length; i += 50) {
      const batch = seeded.slice(i, i + 50);
      clients.push(
        ...(await Promise.all(
          batch.map(async ({ userId, sessionId }) => {
            const principal = { userId, deviceId: 1, sessionId };
            const { ticket } = await issueWsTicket(deps, principal);
            return connect(stack.wsUrl, ticket, userId);
          }),
        )),
      );
    }
    console.log(`  connected ${clients.length} sockets in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    console.log('Floors (same servers, same process):');
    row('bare INSERT (one row, autocommit)', await floorInsert(sql));
    row('bare Redis HGETALL (one key)', await floorRedis(redis));

    const directs = await sql.query<{ id: string; a: string; b: string }>(
      `SELECT c.id, min(m.user_id::text) AS a, max(m.user_id::text) AS b FROM conversations c
         JOIN conversation_members m ON m.conversation_id = c.id WHERE c.kind = 'direct' GROUP BY c.id`,
    );
    const byUser = new Map(clients.map((client) => [client.userId, client]));
    const [groupRow] = (await sql.query<{ id: string }>(`SELECT id FROM conversations WHERE kind = 'group'`)).rows;
    const groupMembers = (
      await sql.query<{ user_id: string }>('SELECT user_id FROM conversation_members WHERE conversation_id = $1', [
        groupRow?.id,
      ])
    ).rows.map((r) => r.user_id);

    const sendDirect = async (conversation: { id: string; a: string; b: string }, flip: boolean) => {
      const [from, to] = flip ? [conversation.b, conversation.a] : [conversation.a, conversation.b];
      const n = ++messageNumber;
      sentAt.set(n, performance.now());
      const ack = await request(byUser.get(from) as Client, {
        action: 'message.send',
        conversationId: conversation.id,
        message: {
          clientMessageId: randomUUID(),
          envelopes: [{ userId: to, deviceId: 1, type: 'signal', ciphertext: ciphertextFor(n) }],
        },
      });
      if (ack.type !== 'ack') throw new Error(`send failed: ${JSON.stringify(ack)}`);
      return n;
    };

    // warm-up: every handler container and connection pool is hot before measuring
    for (let i = 0; i < 100; i++) await sendDirect(directs.rows[i % directs.rows.length] as never, i % 2 === 0);
    await settle(1);

    console.log('\nDirect messages, one at a time (send → recipient receives):');
    const sequential = await phase(DIRECT_SEQUENTIAL, async () => {
      const numbers: number[] = [];
      for (let i = 0; i < DIRECT_SEQUENTIAL; i++) {
        const conversation = directs.rows[Math.floor(Math.random() * directs.rows.length)] as never;
        numbers.push(await sendDirect(conversation, Math.random() < 0.5));
        await waitDelivered(numbers.at(-1) as number, 1);
      }
      return numbers;
    });
    report(sequential, 1);

    console.log(
      `\nDirect messages, ${CONCURRENT_SENDERS} senders at once (next on ack), random pairs of the ${CLIENTS}:`,
    );
    const concurrent = await phase(DIRECT_CONCURRENT, async () => {
      const numbers: number[] = [];
      await Promise.all(
        Array.from({ length: CONCURRENT_SENDERS }, async (_, worker) => {
          for (let i = worker; i < DIRECT_CONCURRENT; i += CONCURRENT_SENDERS) {
            const conversation = directs.rows[i % directs.rows.length] as never;
            numbers.push(await sendDirect(conversation, Math.floor(i / directs.rows.length) % 2 === 1));
          }
        }),
      );
      for (const n of numbers) await waitDelivered(n, 1);
      return numbers;
    });
    report(concurrent, 1);

    console.log(
      `\nGroup messages (sender key, ${GROUP_SIZE} members: ${GROUP_SIZE - 1} recipients each), one at a time:`,
    );
    const group = await phase(GROUP_MESSAGES, async () => {
      const numbers: number[] = [];
      for (let i = 0; i < GROUP_MESSAGES; i++) {
        const from = groupMembers[Math.floor(Math.random() * groupMembers.length)] as string;
        const n = ++messageNumber;
        sentAt.set(n, performance.now());
        const ack = await request(byUser.get(from) as Client, {
          action: 'message.send',
          conversationId: groupRow?.id,
          message: {
            clientMessageId: randomUUID(),
            senderKeyCiphertext: ciphertextFor(n),
            recipients: groupMembers.filter((u) => u !== from).map((userId) => ({ userId, deviceId: 1 })),
          },
        });
        if (ack.type !== 'ack') throw new Error(`group send failed: ${JSON.stringify(ack)}`);
        numbers.push(n);
        await waitDelivered(n, GROUP_SIZE - 1);
      }
      return numbers;
    });
    report(group, GROUP_SIZE - 1);
    const lastArrivals = group.numbers.map((n) => Math.max(...(arrivals.get(n) ?? [0])) - (sentAt.get(n) ?? 0));
    row('until the last of 99 recipients has it', stats(lastArrivals));

    await history(sql, stack.restUrl);
  } finally {
    await stack.stop();
    for (const client of clients) client.socket.terminate();
    await sql.end();
    await redis.flushdb();
    redis.disconnect();
    await schema.drop();
  }
}

// ---- phases ----

interface Phase {
  numbers: number[];
  elapsedMs: number;
  pg: number;
  redis: number;
  cpuMs: number;
}

async function phase(sends: number, run: () => Promise<number[]>): Promise<Phase> {
  const before = { ...counters };
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const numbers = await run();
  const elapsedMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return {
    numbers,
    elapsedMs,
    pg: (counters.pg - before.pg) / sends,
    redis: (counters.redis - before.redis) / sends,
    cpuMs: (used.user + used.system) / 1000 / sends,
  };
}

function report(result: Phase, recipients: number) {
  const latencies = result.numbers.flatMap((n) => (arrivals.get(n) ?? []).map((t) => t - (sentAt.get(n) ?? t)));
  row('send → delivery', stats(latencies));
  const rate = (result.numbers.length / result.elapsedMs) * 1000;
  console.log(
    `  ${result.numbers.length} messages (${result.numbers.length * recipients} deliveries) in ${(result.elapsedMs / 1000).toFixed(1)} s: ${rate.toFixed(0)} messages/s, ${((rate * recipients) | 0).toLocaleString('en')} deliveries/s`,
  );
  console.log(
    `  per send: ${result.pg.toFixed(2)} database statements, ${result.redis.toFixed(2)} Redis commands, ${result.cpuMs.toFixed(2)} ms CPU (whole process: twin, handlers and ${CLIENTS} clients)`,
  );
}

// ---- floors ----

async function floorInsert(sql: pg.Client): Promise<Stats> {
  await sql.query('CREATE TABLE bench_floor (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body bytea)');
  const times: number[] = [];
  for (let i = 0; i < FLOOR_ROUNDS; i++) {
    const t0 = performance.now();
    await sql.query('INSERT INTO bench_floor (body) VALUES ($1)', [Buffer.alloc(48, i % 256)]);
    times.push(performance.now() - t0);
  }
  return stats(times.slice(200));
}

async function floorRedis(redis: Redis): Promise<Stats> {
  await redis.hset('bench:floor', 'conn', JSON.stringify({ connectionId: 'x', userId: 'y', deviceId: 1 }));
  const times: number[] = [];
  for (let i = 0; i < FLOOR_ROUNDS; i++) {
    const t0 = performance.now();
    await redis.hgetall('bench:floor');
    times.push(performance.now() - t0);
  }
  return stats(times.slice(200));
}

// ---- set-up ----

async function seed(sql: pg.Client): Promise<{ userId: string; sessionId: string }[]> {
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO users (email, email_normalized, display_name, password_hash)
     SELECT 'bench' || n || '@example.test', 'bench' || n || '@example.test', 'Bench ' || n, 'not-a-hash'
       FROM generate_series(1, $1::int) n ORDER BY n RETURNING id`,
    [CLIENTS],
  );
  const users = rows.map((r) => r.id);
  await sql.query(
    `INSERT INTO devices (user_id, device_id, name, registration_id, identity_key, signed_prekey_id, signed_prekey,
                          signed_prekey_signature)
     SELECT id, 1, 'bench', 1, decode(repeat('65', 33), 'hex'), 1, decode(repeat('05', 33), 'hex'),
            decode(repeat('00', 64), 'hex') FROM users`,
  );
  const half = CLIENTS / 2;
  for (let i = 0; i < half; i++) {
    const [a, b] = [users[i] as string, users[i + half] as string].sort();
    const { rows: made } = await sql.query<{ id: string }>(
      `INSERT INTO conversations (kind, direct_key, created_by) VALUES ('direct', $1, $2) RETURNING id`,
      [`${a}:${b}`, a],
    );
    await sql.query(
      `INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'member'), ($1, $3, 'member')`,
      [made[0]?.id, a, b],
    );
  }
  const { rows: team } = await sql.query<{ id: string }>(
    `INSERT INTO conversations (kind, name, created_by) VALUES ('group', 'Bench group', $1) RETURNING id`,
    [users[0]],
  );
  await sql.query(
    `INSERT INTO conversation_members (conversation_id, user_id, role)
     SELECT $1, id, CASE WHEN id = $2 THEN 'owner' ELSE 'member' END FROM unnest($3::uuid[]) AS id`,
    [team[0]?.id, users[0], users.slice(0, GROUP_SIZE)],
  );
  // One live session per user, bound to its device: WebSocket frames are served only under a live session.
  const { rows: sessions } = await sql.query<{ user_id: string; id: string }>(
    `INSERT INTO sessions (user_id, device_id, expires_at) SELECT id, 1, now() + interval '1 day' FROM users
     RETURNING user_id, id`,
  );
  const sessionOf = new Map(sessions.map((row) => [row.user_id, row.id]));
  await sql.query('ANALYZE');
  return users.map((userId) => ({ userId, sessionId: sessionOf.get(userId) as string }));
}

function connect(wsUrl: string, ticket: string, userId: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${wsUrl}?ticket=${ticket}`);
    const client: Client = { userId, socket, pending: new Map() };
    socket.on('message', (data) => {
      const at = performance.now();
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame.type === 'entry') {
        const envelope = (frame.entry as { envelope?: { ciphertext: string } }).envelope;
        const match = /^msg:(\d+)/.exec(Buffer.from(envelope?.ciphertext ?? '', 'base64').toString());
        if (match) {
          const n = Number(match[1]);
          const list = arrivals.get(n) ?? [];
          list.push(at);
          arrivals.set(n, list);
          waiters.get(n)?.();
        }
        return;
      }
      const id = frame.id as string | undefined;
      if (id && client.pending.has(id)) {
        client.pending.get(id)?.(frame);
        client.pending.delete(id);
      }
    });
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
  });
}

function request(client: Client, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer in 10 s')), 10_000);
    client.pending.set(id, (answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
    client.socket.send(JSON.stringify({ ...frame, id }));
  });
}

const waiters = new Map<number, () => void>();
function waitDelivered(n: number, count: number): Promise<void> {
  if ((arrivals.get(n)?.length ?? 0) >= count) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`message ${n}: ${arrivals.get(n)?.length ?? 0}/${count} delivered in 10 s`)),
      10_000,
    );
    waiters.set(n, () => {
      if ((arrivals.get(n)?.length ?? 0) < count) return;
      clearTimeout(timer);
      waiters.delete(n);
      resolve();
    });
  });
}

const settle = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

// ---- history ----

async function history(sql: pg.Client, restUrl: string) {
  console.log(
    `\nHistory: ${HISTORY_ROWS.toLocaleString('en')} messages in ${HISTORY_CONVERSATIONS.toLocaleString('en')} conversations`,
  );
  const t0 = performance.now();
  const owner = (await sql.query<{ id: string }>('SELECT id FROM users LIMIT 1')).rows[0]?.id;
  await sql.query(
    `INSERT INTO conversations (kind, name, created_by, next_seq)
     SELECT 'group', 'History ' || n, $1, $2::bigint + 1 FROM generate_series(1, $3::int) n`,
    [owner, Math.ceil(HISTORY_ROWS / HISTORY_CONVERSATIONS), HISTORY_CONVERSATIONS],
  );
  const perConversation = Math.ceil(HISTORY_ROWS / HISTORY_CONVERSATIONS);
  const conversations = (
    await sql.query<{ id: string }>(`SELECT id FROM conversations WHERE name LIKE 'History %' ORDER BY id`)
  ).rows.map((r) => r.id);
  const chunk = 500;
  for (let i = 0; i < conversations.length; i += chunk) {
    await sql.query(
      `INSERT INTO messages (conversation_id, seq, type, sender_id, sender_device_id, client_message_id, created_at)
       SELECT c, s, 'message', $2::uuid, 1, gen_random_uuid(), now() - make_interval(secs => $3::int - s)
         FROM unnest($1::uuid[]) c CROSS JOIN generate_series(1, $3::int) s`,
      [conversations.slice(i, i + chunk), owner, perConversation],
    );
  }
  await sql.query('ANALYZE messages');
  const { rows: size } = await sql.query<{ n: string }>('SELECT count(*) AS n FROM messages');
  console.log(
    `  loaded ${Number(size[0]?.n).toLocaleString('en')} rows in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );

  // A real account (argon2 and all) reading a conversation it is a member of, through the REST handler.
  const email = `historian-${randomUUID()}@example.test`;
  const password = `pw-${randomUUID()}`;
  const registered = await fetch(`${restUrl}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, displayName: 'Historian' }),
  });
  const { accessToken, user } = (await registered.json()) as { accessToken: string; user: { id: string } };
  const target = conversations[Math.floor(conversations.length / 2)] as string;
  await sql.query(`INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'member')`, [
    target,
    user.id,
  ]);
  const page = async (query: string) => {
    const t = performance.now();
    const answer = await fetch(`${restUrl}/conversations/${target}/messages?${query}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const body = (await answer.json()) as { messages: unknown[] };
    if (answer.status !== 200 || body.messages.length !== 50) throw new Error(`page: ${answer.status}`);
    return performance.now() - t;
  };
  for (let i = 0; i < 30; i++) await page('limit=50');
  const back: number[] = [];
  const forward: number[] = [];
  for (let i = 0; i < HISTORY_PAGES; i++) {
    const at = 100 + Math.floor(Math.random() * (perConversation - 200));
    back.push(await page(`before=${at}&limit=50`));
    forward.push(await page(`after=${at}&limit=50`));
  }
  row('page of 50, scrolling back (?before=)', stats(back));
  row('page of 50, forward (?after=)', stats(forward));
  const plan = await sql.query(
    `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
     SELECT m.seq, m.type, m.sender_id, m.sender_device_id, m.payload, m.created_at,
            (d.id IS NOT NULL AND d.acked_at IS NULL) AS pending, d.envelope_type, d.ciphertext
       FROM messages m
       LEFT JOIN deliveries d ON d.conversation_id = m.conversation_id AND d.seq = m.seq
            AND d.user_id = $3::uuid AND d.device_id = 0
      WHERE m.conversation_id = $1::uuid AND m.seq < $2::bigint ORDER BY m.seq DESC LIMIT 50`,
    [target, Math.floor(perConversation / 2), user.id],
  );
  console.log('  plan of the page query (before=, limit 50):');
  for (const line of plan.rows) console.log(`    ${(line as Record<string, string>)['QUERY PLAN']}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
