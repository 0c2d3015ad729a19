import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { ApiClient, registered } from '../support/api.ts';
import { deviceKeys } from '../support/device-keys.ts';
import {
  type PrivatePostgres,
  type PrivateRedis,
  startPrivatePostgres,
  startPrivateRedis,
} from './private-services.ts';

/**
 * A small live load through the twin while its Redis and PostgreSQL (private ones) restart: devices send
 * messages over the WebSocket to direct and group conversations and receive them live, or by catch-up
 * (`GET /sync` on every open and every few seconds). Each device behaves as the client contract asks and no
 * more: it retries `unavailable` and `rate_limited` after their retry time, and a request with no answer (the
 * same clientMessageId: sends are idempotent), reconnects with a fresh ticket whenever its socket closes or a
 * frame is answered `unauthorized`, and acknowledges what it received. Anything else (a 500, `internal`) is a
 * final failure and is reported. Used by the fault suite (assertions) and `npm run bench:messaging` (figures).
 */
const HEARTBEAT_MS = 1_000;
const CATCH_UP_MS = 3_000;
const SEND_EVERY_MS = 700;
const ANSWER_TIMEOUT_MS = 5_000;

export interface FaultPhase {
  readonly name: string;
  /** How long the service was down (kill or stop until it answered again). */
  readonly downMs: number;
  /**
   * From the service being back until live delivery held again: the first message after which every message
   * of the phase reached every recipient device live. Null when live delivery never came back.
   */
  readonly liveRecoveryMs: number | null;
  /**
   * From the service being back until every message acknowledged from the fault until live delivery held again
   * (the backlog that had to come by catch-up) had reached every recipient device.
   */
  readonly backlogDeliveredMs: number | null;
}

export interface FaultReport {
  readonly devices: number;
  readonly acknowledged: number;
  /** Message × recipient device pairs owed, and those that arrived (live or by catch-up). */
  readonly owed: number;
  readonly delivered: number;
  readonly deliveredLive: number;
  readonly missing: readonly string[];
  /** Client message ids that ended up stored under more than one seq. */
  readonly duplicates: readonly string[];
  /** Answers that were neither success nor retryable: what a real client would have shown as failed. */
  readonly finalFailures: readonly string[];
  /** Retries by cause (`unavailable`, `rate_limited`, `timeout`, `unauthorized`, `offline`, `ticket`). */
  readonly retries: Readonly<Record<string, number>>;
  readonly reconnects: number;
  readonly phases: readonly FaultPhase[];
}

interface Sent {
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly recipients: readonly string[];
  readonly ackedAt: number;
}

type Frame = Record<string, unknown>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = (ms: number) => ms / 2 + Math.random() * ms;

class Stats {
  readonly retries: Record<string, number> = {};
  readonly finalFailures: string[] = [];
  reconnects = 0;
  retry(cause: string) {
    this.retries[cause] = (this.retries[cause] ?? 0) + 1;
  }
}

/** One device of the load: its socket, what it received (first live and first any-way arrival times). */
class Peer {
  readonly liveAt = new Map<string, number>();
  readonly firstAt = new Map<string, number>();
  readonly seqsOf = new Map<string, Set<string>>();
  #ws: WebSocket | null = null;
  #stopped = false;
  #opened = 0;
  #catchingUp = false;
  readonly #pending = new Map<string, (frame: Frame) => void>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];

  constructor(
    readonly key: string,
    readonly api: ApiClient,
    readonly wsUrl: string,
    readonly stats: Stats,
  ) {}

  start() {
    void this.#connectLoop();
    this.#timers.push(
      setInterval(() => {
        if (this.#ws?.readyState === WebSocket.OPEN)
          this.#ws.send(JSON.stringify({ action: 'presence.heartbeat', id: randomUUID() }));
      }, HEARTBEAT_MS),
      setInterval(() => void this.catchUp(), CATCH_UP_MS),
    );
  }

  stop() {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#ws?.close();
  }

  get online() {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  async #connectLoop() {
    while (!this.#stopped) {
      try {
        const ticket = await this.api.post('/auth/ws-ticket');
        if (ticket.status !== 200) {
          this.#judge(ticket.status, 'POST /auth/ws-ticket');
          this.stats.retry('ticket');
          await sleep(jitter(500));
          continue;
        }
        const ws = await open(`${this.wsUrl}?ticket=${ticket.body.ticket as string}`);
        if (this.#opened++ > 0) this.stats.reconnects++;
        this.#ws = ws;
        const gone = new Promise((resolve) => ws.once('close', resolve));
        ws.on('message', (data) => this.#receive(JSON.parse(String(data)) as Frame));
        void this.catchUp();
        await gone;
        this.#ws = null;
      } catch {
        this.stats.retry('connect');
      }
      await sleep(jitter(300));
    }
  }

  /** The first status that is neither success nor retryable is a failure a real client would show. */
  #judge(status: number, what: string) {
    if (status >= 200 && status < 300) return;
    if (status === 503 || status === 429) this.stats.retry(status === 503 ? 'unavailable' : 'rate_limited');
    else if (!this.#stopped) this.stats.finalFailures.push(`${what} answered ${status}`);
  }

  #receive(frame: Frame) {
    if ((frame.type === 'ack' || frame.type === 'error') && typeof frame.id === 'string') {
      const resolve = this.#pending.get(frame.id);
      if (resolve) {
        this.#pending.delete(frame.id);
        resolve(frame);
      }
      return;
    }
    if (frame.type !== 'entry') return;
    const { conversationId, entry } = frame as { conversationId: string; entry: Frame };
    if (this.#record(conversationId, entry, true)) {
      this.#ws?.send(
        JSON.stringify({ action: 'message.ack', id: randomUUID(), deliveries: [{ conversationId, seq: entry.seq }] }),
      );
    }
  }

  #record(conversationId: string, entry: Frame, live: boolean): boolean {
    const envelope = entry.envelope as { ciphertext: string } | null;
    if (entry.type !== 'message' || !envelope) return false;
    const clientMessageId = Buffer.from(envelope.ciphertext, 'base64').toString('utf8');
    const now = Date.now();
    if (!this.firstAt.has(clientMessageId)) this.firstAt.set(clientMessageId, now);
    if (live && !this.liveAt.has(clientMessageId)) this.liveAt.set(clientMessageId, now);
    const seqs = this.seqsOf.get(clientMessageId) ?? new Set<string>();
    seqs.add(`${conversationId}:${entry.seq}`);
    this.seqsOf.set(clientMessageId, seqs);
    return true;
  }

  async catchUp() {
    if (this.#catchingUp || this.#stopped) return;
    this.#catchingUp = true;
    try {
      for (let page = 0; page < 20; page++) {
        const answer = await this.api.get('/sync?limit=200');
        this.#judge(answer.status, 'GET /sync');
        if (answer.status !== 200) return;
        const entries = answer.body.entries as { conversationId: string; entry: Frame }[];
        for (const { conversationId, entry } of entries) this.#record(conversationId, entry, false);
        if (entries.length === 0) return;
        const deliveries = entries.map(({ conversationId, entry }) => ({ conversationId, seq: entry.seq }));
        const ack = await this.api.post('/sync/ack', { deliveries });
        this.#judge(ack.status, 'POST /sync/ack');
        if (ack.status !== 200 || !answer.body.more) return;
      }
    } catch {
      this.stats.retry('network');
    } finally {
      this.#catchingUp = false;
    }
  }

  /** Sends a message until it is acknowledged, retrying as the contract allows; returns when it was acked. */
  async send(conversationId: string, recipients: readonly { userId: string; deviceId: number }[]): Promise<Sent> {
    const clientMessageId = randomUUID();
    const ciphertext = Buffer.from(clientMessageId).toString('base64');
    const message = { clientMessageId, envelopes: recipients.map((r) => ({ ...r, type: 'signal', ciphertext })) };
    for (;;) {
      const ws = this.#ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        this.stats.retry('offline');
        await sleep(100);
        continue;
      }
      const id = randomUUID();
      const answer = await new Promise<Frame | null>((resolve) => {
        const timer = setTimeout(() => {
          this.#pending.delete(id);
          resolve(null);
        }, ANSWER_TIMEOUT_MS);
        this.#pending.set(id, (frame) => {
          clearTimeout(timer);
          resolve(frame);
        });
        ws.send(JSON.stringify({ action: 'message.send', id, conversationId, message }));
      });
      if (answer?.type === 'ack') {
        return {
          clientMessageId,
          conversationId,
          recipients: recipients.map((r) => `${r.userId}/${r.deviceId}`),
          ackedAt: Date.now(),
        };
      }
      const error = (answer?.error ?? {}) as { code?: string; retryAfterSeconds?: number };
      const code = answer === null ? 'timeout' : (error.code ?? 'unknown');
      if (['timeout', 'unavailable', 'rate_limited', 'unauthorized'].includes(code)) this.stats.retry(code);
      else this.stats.finalFailures.push(`message.send answered ${code}`);
      await sleep(Math.min(2_000, (error.retryAfterSeconds ?? 0.2) * 1000));
    }
  }
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
  });
}

export interface FaultScenarioOptions {
  /** Load before the first fault, after each restart, and how long the services stay down. */
  readonly warmUpMs?: number;
  readonly phaseMs?: number;
  readonly downMs?: number;
  /** How long to wait, after the load stopped, for every message to have arrived. */
  readonly settleMs?: number;
  readonly log?: (line: string) => void;
}

export async function runFaultScenario(options: FaultScenarioOptions = {}): Promise<FaultReport> {
  const { warmUpMs = 4_000, phaseMs = 8_000, downMs = 1_500, settleMs = 30_000 } = options;
  const log = options.log ?? (() => undefined);
  let pg: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  let stack: LocalStack | undefined;
  const peers: Peer[] = [];
  try {
    [pg, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    stack = await startLocalStack({
      dataDir: null,
      ports: { rest: 0, ws: 0, web: null },
      env: { DATABASE_URL: pg.url, REDIS_URL: redis.url, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
    const { restUrl, wsUrl } = stack;
    const stats = new Stats();

    // Five users; the first has two devices (multi-device fan-out).
    const users = await Promise.all(Array.from({ length: 5 }, (_, i) => registered(restUrl, `fault${i}`)));
    const devices: { userId: string; deviceId: number; peer: Peer }[] = [];
    for (const [i, account] of users.entries()) {
      const clients = [account.client];
      if (i === 0) {
        const second = new ApiClient(restUrl);
        await second.post('/auth/login', { email: account.email, password: account.password });
        clients.push(second);
      }
      for (const client of clients) {
        const answer = await client.post('/devices', (await deviceKeys({ preKeys: 1 })).body());
        const deviceId = (answer.body.device as { deviceId: number }).deviceId;
        const peer = new Peer(`${account.userId}/${deviceId}`, client, wsUrl, stats);
        peers.push(peer);
        devices.push({ userId: account.userId, deviceId, peer });
      }
    }
    const [first] = users;
    if (!first) throw new Error('no users');
    const group = await first.client.post('/conversations', {
      kind: 'group',
      name: 'Faults',
      memberIds: users.slice(1).map((u) => u.userId),
    });
    const conversations = [{ id: (group.body.conversation as { id: string }).id, members: users.map((u) => u.userId) }];
    for (const [a, b] of [
      [0, 1],
      [2, 3],
      [4, 0],
    ] as const) {
      const [ua, ub] = [users[a], users[b]];
      if (!ua || !ub) continue;
      const answer = await ua.client.post('/conversations', { kind: 'direct', userId: ub.userId });
      conversations.push({ id: (answer.body.conversation as { id: string }).id, members: [ua.userId, ub.userId] });
    }
    for (const device of devices) device.peer.start();
    const deadline = Date.now() + 20_000;
    while (devices.some((d) => !d.peer.online) && Date.now() < deadline) await sleep(50);
    log(`  ${devices.length} devices of ${users.length} users online; ${conversations.length} conversations`);

    // The load: every device sends to one of its conversations, one message in flight each.
    const sent: Sent[] = [];
    let loading = true;
    const loops = devices.map(async (device) => {
      while (loading) {
        const mine = conversations.filter((c) => c.members.includes(device.userId));
        const conversation = mine[Math.floor(Math.random() * mine.length)];
        if (!conversation) return;
        const recipients = devices
          .filter((d) => conversation.members.includes(d.userId) && d !== device)
          .map((d) => ({ userId: d.userId, deviceId: d.deviceId }));
        sent.push(await device.peer.send(conversation.id, recipients));
        await sleep(jitter(SEND_EVERY_MS));
      }
    });

    const phases: { name: string; downMs: number; backAt: number; endAt: number }[] = [];
    const fault = async (name: string, down: () => Promise<void>, up: () => Promise<void>) => {
      const downAt = Date.now();
      await down();
      await sleep(downMs);
      await up();
      const backAt = Date.now();
      log(`  ${name}: down ${backAt - downAt} ms`);
      await sleep(phaseMs);
      phases.push({ name, downMs: backAt - downAt, backAt, endAt: Date.now() });
    };
    await sleep(warmUpMs);
    const services = { pg, redis };
    await fault(
      'Redis restart (every key lost)',
      () => services.redis.kill(),
      () => services.redis.start(),
    );
    await fault(
      'PostgreSQL restart',
      () => services.pg.stop(),
      () => services.pg.start(),
    );
    loading = false;
    await Promise.all(loops);

    const byKey = new Map(devices.map((d) => [d.peer.key, d.peer]));
    const owedPairs = sent.flatMap((m) => m.recipients.map((r) => ({ m, peer: byKey.get(r) as Peer, r })));
    const settleBy = Date.now() + settleMs;
    while (owedPairs.some(({ m, peer }) => !peer.firstAt.has(m.clientMessageId)) && Date.now() < settleBy)
      await sleep(100);

    const missing = owedPairs
      .filter(({ m, peer }) => !peer.firstAt.has(m.clientMessageId))
      .map(({ m, r }) => `${m.clientMessageId} → ${r}`);
    const duplicates = [
      ...new Set(devices.flatMap((d) => [...d.peer.seqsOf].filter(([, seqs]) => seqs.size > 1).map(([id]) => id))),
    ];
    const arrival = (m: Sent, times: (peer: Peer) => Map<string, number>) => {
      let latest = 0;
      for (const r of m.recipients) {
        const at = times(byKey.get(r) as Peer).get(m.clientMessageId);
        if (at === undefined) return null;
        latest = Math.max(latest, at);
      }
      return latest;
    };
    const report: FaultReport = {
      devices: devices.length,
      acknowledged: sent.length,
      owed: owedPairs.length,
      delivered: owedPairs.length - missing.length,
      deliveredLive: owedPairs.filter(({ m, peer }) => peer.liveAt.has(m.clientMessageId)).length,
      missing,
      duplicates,
      finalFailures: stats.finalFailures,
      retries: stats.retries,
      reconnects: stats.reconnects,
      phases: phases.map((phase) => {
        const during = sent.filter((m) => m.ackedAt >= phase.backAt - phase.downMs && m.ackedAt <= phase.endAt);
        const after = during.filter((m) => m.ackedAt >= phase.backAt);
        // The first message after which every message of the phase arrived live everywhere.
        let recoveredBy: number | null = null;
        for (let i = after.length - 1; i >= 0; i--) {
          const live = arrival(after[i] as Sent, (peer) => peer.liveAt);
          if (live === null) break;
          recoveredBy = live;
        }
        const liveRecoveryMs = recoveredBy === null ? null : Math.max(0, recoveredBy - phase.backAt);
        const backlog = during
          .filter((m) => m.ackedAt <= phase.backAt + (liveRecoveryMs ?? phaseMs))
          .map((m) => arrival(m, (peer) => peer.firstAt));
        return {
          name: phase.name,
          downMs: phase.downMs,
          liveRecoveryMs,
          backlogDeliveredMs: backlog.includes(null)
            ? null
            : Math.max(0, ...(backlog as number[]).map((t) => t - phase.backAt)),
        };
      }),
    };
    return report;
  } finally {
    for (const device of peers) device.stop();
    await stack?.stop();
    await Promise.all([pg?.destroy(), redis?.stop()]);
  }
}
