/**
 * The timeline's pure functions (matrix-js-sdk `models/room.ts` keeps the model; the UI reads views): item
 * order, search terms, message state with read markers, and the views the UI renders. No I/O, no signals.
 */
import type { Conversation } from '@ciphertalk/shared/protocol';
import { attachmentSummary, attachmentView } from './attachments.ts';
import type { Presence } from './directory.ts';
import type { ItemRecord } from './records.ts';
import { tokenize } from './search-terms.ts';
import type { ConversationView, MemberView, MessageState, MessageView, TimelineItem } from './types.ts';

export const STATE_RANK: Record<MessageState, number> = { failed: -1, sending: 0, sent: 1, delivered: 2, read: 3 };

/** What the views need to know besides the items. */
export interface ViewContext {
  readonly userId: string;
  readonly nameOf: (userId: string | null) => string;
  readonly find: (conversationId: string, contentId: string) => ItemRecord | undefined;
}

/** An empty item: callers fill in what they know. */
export function blankItem(conversationId: string, key: string, seq: number | null, at: string): ItemRecord {
  return {
    key,
    conversationId,
    contentId: null,
    seq,
    kind: 'message',
    senderId: null,
    senderDeviceId: 0,
    at,
    localTime: Date.now(),
    text: '',
    replyTo: null,
    reactions: {},
    edited: false,
    deleted: false,
    state: 'sent',
    decryptError: null,
    terms: [],
  };
}

export const contentKey = (conversationId: string, contentId: string) => `${conversationId}|${contentId}`;
export const seqKey = (conversationId: string, seq: number) => `${conversationId}|#${seq}`;

/** Server order (seq), then local order for what has no seq yet. */
export function sortItems(items: Iterable<ItemRecord>): ItemRecord[] {
  return [...items].sort(
    (a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER) || a.localTime - b.localTime,
  );
}

/** The search terms of an item: a readable message's text and file names. */
export function termsOf(item: ItemRecord): string[] {
  if (item.kind !== 'message' || item.deleted || item.decryptError !== null) return [];
  const names = (item.attachments ?? []).map((a) => a.name).join(' ');
  return tokenize(`${item.text} ${names}`);
}

/** The text a reply quotes: the message's text, or what its files are. */
export const excerptOf = (item: ItemRecord) => (item.text || attachmentSummary(item.attachments ?? [])).slice(0, 200);

/**
 * How far the other members have read a conversation, from their read markers (`lastReadSeq` in the
 * conversation list): fills in the read receipts this device missed while it was offline. Live receipts move
 * `item.state` itself.
 */
export function othersReadUpTo(conversation: Conversation | undefined, userId: string): number {
  const members = conversation?.members ?? [];
  return Math.max(0, ...members.filter((m) => m.userId !== userId).map((m) => m.lastReadSeq));
}

export function stateOf(item: ItemRecord, userId: string, readUpTo: number): MessageState {
  const sentByMe = item.senderId === userId && item.seq !== null && STATE_RANK[item.state] >= STATE_RANK.sent;
  return sentByMe && item.seq !== null && item.seq <= readUpTo ? 'read' : item.state;
}

export function itemView(item: ItemRecord, readUpTo: number, ctx: ViewContext): TimelineItem {
  const id =
    item.seq !== null ? `${item.conversationId}:${item.seq}` : `${item.conversationId}:pending:${item.contentId}`;
  if (item.kind === 'system') {
    return {
      kind: 'system',
      id,
      conversationId: item.conversationId,
      seq: item.seq ?? 0,
      at: item.at,
      text: item.text,
    };
  }
  const replyTarget = item.replyTo ? ctx.find(item.conversationId, item.replyTo.contentId) : undefined;
  const view: MessageView = {
    kind: 'message',
    id,
    conversationId: item.conversationId,
    contentId: item.contentId ?? `seq-${item.seq}`,
    seq: item.seq,
    senderId: item.senderId ?? '',
    senderName: ctx.nameOf(item.senderId),
    senderDeviceId: item.senderDeviceId,
    mine: item.senderId === ctx.userId,
    at: item.at,
    text: item.deleted ? '' : item.text,
    replyTo: item.replyTo
      ? {
          contentId: item.replyTo.contentId,
          senderId: item.replyTo.senderId,
          senderName: ctx.nameOf(item.replyTo.senderId),
          text: replyTarget && !replyTarget.deleted ? excerptOf(replyTarget) : item.replyTo.excerpt,
        }
      : null,
    reactions: Object.entries(item.reactions)
      .filter(([, users]) => users.length > 0)
      .map(([emoji, users]) => ({ emoji, userIds: users, mine: users.includes(ctx.userId) })),
    edited: item.edited,
    deleted: item.deleted,
    state: stateOf(item, ctx.userId, readUpTo),
    decryptError: item.decryptError,
    call: item.call ?? null,
    attachments: item.deleted ? [] : (item.attachments ?? []).map(attachmentView),
  };
  return view;
}

/** One row of the conversation list. `sorted`: the conversation's items, in order. */
export function conversationView(
  conv: Conversation,
  sorted: readonly ItemRecord[],
  readMarker: number,
  presenceOf: (userId: string) => Presence | undefined,
  ctx: ViewContext,
): ConversationView {
  const lastSeq = Math.max(conv.lastSeq, ...sorted.map((i) => i.seq ?? 0));
  const marker = Math.max(readMarker, conv.lastSeq - conv.unreadCount);
  let unread = 0;
  let last: ItemRecord | undefined;
  for (const item of sorted) {
    if (item.kind !== 'message') continue;
    last = item;
    if (item.senderId !== ctx.userId && item.seq !== null && item.seq > marker && !item.deleted) unread++;
  }
  const members: MemberView[] = conv.members.map((m) => {
    const presence = presenceOf(m.userId);
    return {
      userId: m.userId,
      displayName: m.displayName,
      role: m.role,
      joinedAt: m.joinedAt,
      presence: presence?.status ?? 'unknown',
      lastSeenAt: presence?.lastSeenAt ?? null,
    };
  });
  const peer = conv.kind === 'direct' ? (members.find((m) => m.userId !== ctx.userId) ?? null) : null;
  const lastAt = last && last.at > conv.lastActivityAt ? last.at : conv.lastActivityAt;
  return {
    id: conv.id,
    kind: conv.kind,
    title: conv.kind === 'group' ? (conv.name ?? 'Group') : (peer?.displayName ?? 'Direct conversation'),
    name: conv.name,
    members,
    myRole: conv.role,
    unreadCount: unread,
    lastActivityAt: lastAt,
    lastSeq,
    lastMessage: last
      ? {
          senderId: last.senderId ?? '',
          senderName: ctx.nameOf(last.senderId),
          text: last.deleted
            ? 'Message deleted'
            : last.decryptError
              ? 'Message could not be decrypted'
              : last.text.slice(0, 120) || (last.attachments?.length ? attachmentSummary(last.attachments) : ''),
          at: last.at,
        }
      : null,
    peer,
  };
}

/** Most recently active first. */
export const byActivity = (a: ConversationView, b: ConversationView) =>
  a.lastActivityAt < b.lastActivityAt ? 1 : a.lastActivityAt > b.lastActivityAt ? -1 : 0;
