/**
 * The timeline model against the in-memory store: one function per content kind, writes that index for
 * search, receipts, and the pure views the UI reads.
 */
import type { TimelineEntry } from '@ciphertalk/shared/protocol';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/engine/local-store.ts';
import { createState, timelineSignal } from '../../src/engine/state.ts';
import { Timeline } from '../../src/engine/timeline.ts';
import { conversationView, itemView, stateOf } from '../../src/engine/timeline-view.ts';
import type { MessageView } from '../../src/engine/types.ts';
import { conversation, directoryOf, fakeApi } from './stages.ts';

const CONV = '00000000-0000-4000-8000-00000000c0c0';
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function entry(seq: number, senderId = 'bob'): TimelineEntry & { type: 'message' } {
  return {
    seq,
    type: 'message',
    senderId,
    senderDeviceId: 1,
    createdAt: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
    envelope: null,
  };
}

function setUp() {
  const store = memoryStore();
  const state = createState();
  const directory = directoryOf(fakeApi({}), 'alice', [conversation(CONV, 'direct', ['alice', 'bob'])]);
  const timeline = new Timeline({ store, state, userId: 'alice', directory });
  return { store, state, timeline };
}

const views = (state: ReturnType<typeof createState>) =>
  timelineSignal(state, CONV).value.items.filter((i): i is MessageView => i.kind === 'message');

describe('Timeline', () => {
  it('shows a received text once, and stores it indexed for search', async () => {
    const { timeline, state, store } = setUp();
    timeline.open(CONV);
    const content = { v: 1 as const, id: id(1), kind: 'text' as const, text: 'Lunch at noon?' };
    await timeline.write(timeline.text(CONV, entry(1), content));
    expect(timeline.text(CONV, entry(2), content)).toEqual({}); // a re-sent copy is never shown twice
    expect(views(state).map((v) => [v.seq, v.text, v.senderName])).toEqual([[1, 'Lunch at noon?', 'Name of bob']]);
    expect((await store.item(`${CONV}|${id(1)}`))?.terms).toContain('lunch');
    expect((await timeline.search('noo')).map((h) => h.contentId)).toEqual([id(1)]);
  });

  it('puts a re-sent copy in the place of the item that could not be decrypted', async () => {
    const { timeline, state } = setUp();
    timeline.open(CONV);
    await timeline.write(timeline.undecryptable(CONV, entry(4), { code: 'no_session', reason: 'x', recovering: true }));
    const copy = { v: 1 as const, id: id(2), kind: 'text' as const, text: 'here it is', resendOf: 4 };
    await timeline.write(timeline.text(CONV, entry(9), copy));
    expect(views(state).map((v) => [v.seq, v.text, v.decryptError])).toEqual([[4, 'here it is', null]]);
  });

  it('applies edits and deletes from the sender only, and toggles reactions', async () => {
    const { timeline, state } = setUp();
    timeline.open(CONV);
    await timeline.write(timeline.text(CONV, entry(1), { v: 1, id: id(1), kind: 'text', text: 'first' }));
    expect(
      timeline.editOrDelete(CONV, entry(2, 'carol'), { v: 1, id: id(2), kind: 'edit', target: id(1), text: 'x' }),
    ).toEqual({});
    await timeline.write(
      timeline.editOrDelete(CONV, entry(3), { v: 1, id: id(3), kind: 'edit', target: id(1), text: 'second' }),
    );
    await timeline.write(
      timeline.reaction(CONV, entry(4), { v: 1, id: id(4), kind: 'reaction', target: id(1), emoji: '👍', on: true }),
    );
    expect(views(state)[0]).toMatchObject({
      text: 'second',
      edited: true,
      reactions: [{ emoji: '👍', userIds: ['bob'], mine: false }],
    });
    expect(await timeline.search('first')).toEqual([]);
    await timeline.write(timeline.editOrDelete(CONV, entry(5), { v: 1, id: id(5), kind: 'delete', target: id(1) }));
    expect(views(state)[0]).toMatchObject({ text: '', deleted: true });
    expect(await timeline.search('second')).toEqual([]);
  });

  it('moves its own message from sending to sent to read', async () => {
    const { timeline, state } = setUp();
    timeline.open(CONV);
    const { item, content } = timeline.localText(CONV, id(1), 'mine', 1);
    await timeline.write({ put: [{ item }] });
    expect(views(state)[0]?.state).toBe('sending');
    await timeline.write(timeline.sent(CONV, content, { seq: 3, createdAt: '2026-01-01T00:01:00.000Z' }));
    expect(views(state)[0]).toMatchObject({ seq: 3, state: 'sent', at: '2026-01-01T00:01:00.000Z' });
    const receipt = timeline.receipt(CONV, 'bob', 'read', 3);
    if (!receipt) throw new Error('expected a change');
    await timeline.write(receipt);
    expect(views(state)[0]?.state).toBe('read');
  });

  it('views: read markers fill in missed receipts; unread counts skip own and deleted messages', () => {
    const conv = conversation(CONV, 'direct', ['alice', 'bob']);
    const ctx = { userId: 'alice', nameOf: (u: string | null) => u ?? '?', find: () => undefined };
    const mine = { ...setUp().timeline.localText(CONV, id(1), 'hi', 1).item, seq: 2, state: 'sent' as const };
    expect(stateOf(mine, 'alice', 1)).toBe('sent');
    expect(stateOf(mine, 'alice', 2)).toBe('read');
    expect(itemView(mine, 2, ctx)).toMatchObject({ kind: 'message', mine: true, state: 'read', id: `${CONV}:2` });
    const theirs = { ...mine, key: 'k2', contentId: id(2), senderId: 'bob', seq: 3 };
    const gone = { ...theirs, key: 'k3', contentId: id(3), seq: 4, deleted: true };
    const view = conversationView(
      { ...conv, lastSeq: 4, unreadCount: 4 },
      [mine, theirs, gone],
      0,
      () => undefined,
      ctx,
    );
    expect(view).toMatchObject({
      unreadCount: 1,
      title: 'Name of bob',
      lastSeq: 4,
      lastMessage: { text: 'Message deleted' },
    });
  });
});
