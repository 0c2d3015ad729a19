/**
 * The outbox (Signal-Desktop's `conversationJobQueue`, matrix-js-sdk's `scheduler`): content items waiting to
 * be encrypted and sent, kept in the local store so they survive a reload. Flushed oldest first, one at a
 * time; a network failure (or a 5xx) stops the flush and keeps the job, tried again every few seconds, on
 * reconnect and when the browser is back online; any other refusal drops the job for good. Each job is a
 * zod-checked record (the content item is one of the content kinds), so a damaged record is dropped, never sent.
 * Encryption happens at flush time, so device changes since the job was queued are picked up.
 */
import type { SendMessageResponse } from '@ciphertalk/shared/protocol';
import { z } from 'zod';
import { Coalesced } from './coalesce.ts';
import { Content } from './content.ts';
import { isEngineError } from './errors.ts';
import { andProcessed, type Change } from './local-store.ts';
import type { OutboxRecord } from './records.ts';

export const RETRY_MS = 3000;

/** A job as stored. */
export const OutboxJob = z.object({
  contentId: z.string().min(1),
  conversationId: z.string().min(1),
  clientMessageId: z.string().min(1),
  content: Content,
  queuedAt: z.number(),
  attachmentIds: z.array(z.string()).optional(),
});

export interface OutboxDeps {
  /** The stored jobs (unchecked: they are parsed here). */
  readonly jobs: () => Promise<unknown[]>;
  /** Writes a state change (the timeline's `write`: the store, then memory). */
  readonly write: (change: Change) => Promise<void>;
  /** Encrypts and stores one job's content on the server. */
  readonly send: (job: OutboxRecord) => Promise<SendMessageResponse>;
  /** What a sent job changes locally (its message gets a seq), written with the job's removal. */
  readonly sent: (job: OutboxRecord, stored: SendMessageResponse) => Change;
  /** What a job refused for good changes locally (its message failed). */
  readonly failed: (job: OutboxRecord) => Change;
  readonly log: (event: string, detail?: Record<string, unknown>) => void;
  readonly newId?: () => string;
}

/** Network trouble: the job stays queued. */
const deferrable = (error: unknown) =>
  isEngineError(error, 'network') ||
  isEngineError(error, 'offline') ||
  isEngineError(error, 'timeout') ||
  (isEngineError(error) && (error.status ?? 0) >= 500);

export class Outbox {
  readonly #deps: OutboxDeps;
  #lastQueuedAt = 0;
  readonly #flushing = new Coalesced();
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(deps: OutboxDeps) {
    this.#deps = deps;
  }

  /**
   * Queues a content item; `with` is the rest of the state change (the local echo), written in the same
   * transaction. The flush starts at once.
   */
  async queue(conversationId: string, content: Content, attachmentIds: string[] = [], with_: Change = {}) {
    const job: OutboxRecord = {
      contentId: content.id,
      conversationId,
      clientMessageId: (this.#deps.newId ?? (() => globalThis.crypto.randomUUID()))(),
      content,
      queuedAt: this.#nextQueuedAt(),
      ...(attachmentIds.length > 0 ? { attachmentIds } : {}),
    };
    await this.#deps.write({ ...with_, enqueue: job });
    void this.flush();
  }

  /** Sends what the outbox holds, oldest first; stops at the first network failure and retries later. */
  flush(): Promise<void> {
    return this.#flushing.run(
      async () => {
        for (const job of await this.#jobs()) {
          if (this.#closed) return false;
          if (!(await this.#send(job))) {
            this.#scheduleRetry();
            return false;
          }
        }
        return true;
      },
      () => this.#closed,
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    await this.#flushing.running?.catch(() => undefined);
  }

  /** The valid jobs, oldest first; invalid records are dropped (and logged). */
  async #jobs(): Promise<OutboxRecord[]> {
    const jobs: OutboxRecord[] = [];
    for (const raw of await this.#deps.jobs()) {
      const parsed = OutboxJob.safeParse(raw);
      if (parsed.success) {
        jobs.push(parsed.data);
        continue;
      }
      const contentId = (raw as { contentId?: unknown } | null)?.contentId;
      this.#deps.log('outbox.invalid_job', { issues: parsed.error.issues.length });
      if (typeof contentId === 'string') await this.#deps.write({ dequeue: contentId });
    }
    return jobs.sort((a, b) => a.queuedAt - b.queuedAt);
  }

  /** False when the network failed (keep it queued); true when done with the job (sent or failed for good). */
  async #send(job: OutboxRecord): Promise<boolean> {
    const { conversationId, content } = job;
    let stored: SendMessageResponse;
    try {
      stored = await this.#deps.send(job);
    } catch (error) {
      if (deferrable(error)) {
        this.#deps.log('message.send_deferred', { conversationId });
        return false;
      }
      this.#deps.log('message.send_failed', { conversationId, error: String(error) });
      await this.#deps.write({ ...this.#deps.failed(job), dequeue: job.contentId });
      return true;
    }
    // Sent: the job leaves, the entry is never processed as incoming, and the message has its seq, at once.
    await this.#deps.write({
      ...andProcessed(this.#deps.sent(job, stored), `${conversationId}:${stored.seq}`),
      dequeue: job.contentId,
    });
    this.#deps.log('message.sent', { conversationId, seq: stored.seq, kind: content.kind });
    return true;
  }

  /** Strictly increasing, so the outbox keeps the order of sends made within one millisecond. */
  #nextQueuedAt(): number {
    this.#lastQueuedAt = Math.max(Date.now(), this.#lastQueuedAt + 0.001);
    return this.#lastQueuedAt;
  }

  #scheduleRetry(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.flush();
    }, RETRY_MS);
  }
}
