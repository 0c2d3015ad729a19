/**
 * The outbox against the in-memory store: the local echo and the job in one write, an ordered flush, network
 * failures kept for later, refusals dropped with their message failed, damaged jobs never sent.
 */
import type { SendMessageResponse } from '@ciphertalk/shared/protocol';
import { describe, expect, it } from 'vitest';
import type { Content } from '../../src/engine/content.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { type Change, memoryStore } from '../../src/engine/local-store.ts';
import { Outbox } from '../../src/engine/outbox.ts';
import type { OutboxRecord } from '../../src/engine/records.ts';

/** Content ids are UUIDs: `a` and `b` stand for two of them. */
const ids: Record<string, string> = {
  a: '00000000-0000-4000-8000-00000000000a',
  b: '00000000-0000-4000-8000-00000000000b',
};
const text = (name: string): Content => ({ v: 1, id: ids[name] ?? name, kind: 'text', text: `text ${name}` });

function outbox(send: (job: OutboxRecord) => Promise<SendMessageResponse>) {
  const store = memoryStore();
  const writes: Change[] = [];
  let next = 0;
  const box = new Outbox({
    jobs: () => store.outbox(),
    write: async (change) => {
      writes.push(change);
      await store.commit(change);
    },
    send,
    sent: (job) => ({ processed: [`sent:${job.contentId}`] }),
    failed: (job) => ({ processed: [`failed:${job.contentId}`] }),
    log: () => undefined,
    newId: () => `cm-${++next}`,
  });
  return { box, store, writes };
}

const stored = (seq: number): SendMessageResponse => ({ seq, createdAt: '2026-01-01T00:00:00.000Z' });

describe('Outbox', () => {
  it('writes the local echo with the job, and sends jobs oldest first', async () => {
    const sent: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { box, store, writes } = outbox(async (job) => {
      await gate;
      sent.push(job.contentId);
      return stored(sent.length);
    });
    await box.queue('c1', text('a'), [], { processed: ['echo:a'] });
    await box.queue('c1', text('b'), ['att-1']);
    expect(writes[0]).toMatchObject({ processed: ['echo:a'], enqueue: { contentId: ids.a, clientMessageId: 'cm-1' } });
    expect(writes[1]).toMatchObject({ enqueue: { contentId: ids.b, attachmentIds: ['att-1'] } });
    release();
    await box.flush();
    expect(sent).toEqual([ids.a, ids.b]);
    expect(await store.outbox()).toEqual([]);
    // Each sent job leaves in the same write that marks its entry processed.
    expect(writes.at(-1)).toEqual({ processed: [`sent:${ids.b}`, 'c1:2'], dequeue: ids.b });
    expect(await store.isProcessed('c1:1')).toBe(true);
  });

  it('keeps a job through a network failure and sends it on the next flush', async () => {
    let online = false;
    const { box, store } = outbox(async () => {
      if (!online) throw new EngineError('network', 'The server cannot be reached');
      return stored(7);
    });
    await box.queue('c1', text('a'));
    await box.flush();
    expect(await store.outbox()).toHaveLength(1);
    online = true;
    await box.flush();
    expect(await store.outbox()).toEqual([]);
    await box.close();
  });

  it('drops a job the server refuses for good, with what that changes locally', async () => {
    const { box, store, writes } = outbox(async () => {
      throw new EngineError('forbidden', 'Not a member', { status: 403 });
    });
    await box.queue('c1', text('a'));
    await box.flush();
    expect(await store.outbox()).toEqual([]);
    expect(writes.at(-1)).toEqual({ processed: [`failed:${ids.a}`], dequeue: ids.a });
  });

  it('never sends a damaged job record', async () => {
    const sent: string[] = [];
    const { box, store } = outbox(async (job) => {
      sent.push(job.contentId);
      return stored(1);
    });
    await store.commit({
      enqueue: {
        contentId: 'x',
        conversationId: 'c1',
        clientMessageId: 'cm',
        queuedAt: 1,
        content: { kind: 'bogus' },
      } as never,
    });
    await box.flush();
    expect(sent).toEqual([]);
    expect(await store.outbox()).toEqual([]);
  });
});
