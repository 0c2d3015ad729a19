/**
 * The timeline model: every conversation's items in memory over the local store, one function per content
 * kind (what a received text, edit, delete, reaction, call event, system event or undecryptable entry does to
 * the items, as a `Change`), the local echoes of what this device sends, receipts, read markers, paging
 * windows and search. `write` is the one way items change: the store first (one transaction with whatever
 * else belongs to the state change), then memory, then the signals the UI reads (views from timeline-view.ts).
 */
import type { SendMessageResponse, TimelineEntry } from '@ciphertalk/shared/protocol';
import type { AttachmentRef } from './attachment-content.ts';
import { storedOf } from './attachments.ts';
import { callEventText } from './call-format.ts';
import type { Content } from './content.ts';
import type { Directory } from './directory.ts';
import { EngineError } from './errors.ts';
import type { Change, LocalStore } from './local-store.ts';
import type { ItemRecord } from './records.ts';
import { snippet, tokenize } from './search-terms.ts';
import { EMPTY_TIMELINE, type EngineState, timelineSignal } from './state.ts';
import { systemText } from './system-text.ts';
import {
  blankItem,
  byActivity,
  contentKey,
  conversationView,
  excerptOf,
  itemView,
  othersReadUpTo,
  STATE_RANK,
  seqKey,
  sortItems,
  termsOf,
  type ViewContext,
} from './timeline-view.ts';
import type { CallEventView, DecryptErrorView, MessageRef, SearchHit } from './types.ts';

export const PAGE = 50;

type MessageEntry = TimelineEntry & { type: 'message' };
type SystemEntry = TimelineEntry & { type: 'system' };

export interface TimelineDeps {
  readonly store: LocalStore;
  readonly state: EngineState;
  readonly userId: string;
  readonly directory: Directory;
}

/** The references of an item's files; null when an upload never finished. */
export function refsOf(item: ItemRecord): AttachmentRef[] | null {
  const refs: AttachmentRef[] = [];
  for (const file of item.attachments ?? []) {
    if (!file.ref) return null;
    refs.push(file.ref);
  }
  return refs;
}

/** The `text` content that (re)sends an item: its text, reply and files. */
export function textContentOf(item: ItemRecord & { contentId: string }, extra: { resendOf?: number } = {}): Content {
  const refs = refsOf(item) ?? [];
  return {
    v: 1,
    id: item.contentId,
    kind: 'text',
    text: item.text,
    ...extra,
    ...(item.replyTo
      ? { replyTo: { id: item.replyTo.contentId, senderId: item.replyTo.senderId, excerpt: item.replyTo.excerpt } }
      : {}),
    ...(refs.length > 0 ? { attachments: refs } : {}),
  };
}

export class Timeline {
  readonly #deps: TimelineDeps;
  readonly #items = new Map<string, Map<string, ItemRecord>>();
  readonly #windows = new Map<string, number>();
  readonly #readMarkers = new Map<string, number>();
  readonly #oldestReached = new Set<string>();
  readonly #olderCursor = new Map<string, number>();
  readonly #view: ViewContext;

  constructor(deps: TimelineDeps) {
    this.#deps = deps;
    this.#view = {
      userId: deps.userId,
      nameOf: deps.directory.nameOf,
      find: (conversationId, contentId) => this.find(conversationId, contentId),
    };
  }

  async load(): Promise<void> {
    for (const item of await this.#deps.store.items()) this.#of(item.conversationId).set(item.key, item);
  }

  // ---------------------------------------------------------------- the model

  #of(conversationId: string): Map<string, ItemRecord> {
    let items = this.#items.get(conversationId);
    if (!items) {
      items = new Map();
      this.#items.set(conversationId, items);
    }
    return items;
  }

  sorted(conversationId: string): ItemRecord[] {
    return sortItems(this.#of(conversationId).values());
  }

  find(conversationId: string, contentId: string): ItemRecord | undefined {
    return this.#of(conversationId).get(contentKey(conversationId, contentId));
  }

  findBySeq(conversationId: string, seq: number): ItemRecord | undefined {
    for (const item of this.#of(conversationId).values()) if (item.seq === seq) return item;
    return undefined;
  }

  /** One of this user's messages, for an action only its sender may take. */
  own(ref: MessageRef): ItemRecord & { contentId: string } {
    const item = this.find(ref.conversationId, ref.contentId);
    if (item?.kind !== 'message' || item.contentId === null) throw new EngineError('not_found', 'No such message');
    if (item.senderId !== this.#deps.userId) throw new EngineError('forbidden', 'Only your own messages');
    return item as ItemRecord & { contentId: string };
  }

  /** Shows an item without storing it (a message whose uploads are not done: a reload forgets it). */
  show(item: ItemRecord): void {
    this.#of(item.conversationId).set(item.key, item);
    this.render(item.conversationId);
  }

  hide(item: ItemRecord): void {
    this.#of(item.conversationId).delete(item.key);
    this.render(item.conversationId);
  }

  /**
   * Writes a state change: items (re-indexed for search) with whatever else belongs to it (an outbox job, a
   * processed entry) in one transaction, then memory and the views.
   */
  async write(change: Change): Promise<void> {
    const put = (change.put ?? []).map(({ item, previousTerms }) => {
      const indexed = { ...item, terms: termsOf(item) };
      // The postings to drop are those of the stored version: what memory held before this change.
      return { item: indexed, previousTerms: previousTerms ?? item.terms };
    });
    await this.#deps.store.commit({ ...change, put });
    const touched = new Set<string>();
    for (const { item } of change.put ?? []) {
      item.terms = termsOf(item);
      this.#of(item.conversationId).set(item.key, item);
      touched.add(item.conversationId);
    }
    for (const item of change.remove ?? []) {
      this.#of(item.conversationId).delete(item.key);
      touched.add(item.conversationId);
    }
    for (const conversationId of touched) this.render(conversationId);
  }

  // ---------------------------------------------------------------- views

  render(conversationId: string): void {
    const target = this.#deps.state.timelines.get(conversationId);
    if (target) {
      const sorted = this.sorted(conversationId);
      const window = this.#windows.get(conversationId) ?? PAGE;
      const visible = sorted.slice(Math.max(0, sorted.length - window));
      const earliest = sorted[0]?.seq ?? null;
      const readUpTo = othersReadUpTo(this.#deps.directory.known(conversationId), this.#deps.userId);
      target.value = {
        items: visible.map((item) => itemView(item, readUpTo, this.#view)),
        hasOlder:
          sorted.length > visible.length ||
          (earliest !== null && earliest > 1 && !this.#oldestReached.has(conversationId)),
        loadingOlder: target.value.loadingOlder,
      };
    }
    this.renderConversations();
  }

  renderAll(): void {
    for (const id of this.#deps.state.timelines.keys()) this.render(id);
    this.renderConversations();
  }

  renderConversations(): void {
    const { directory } = this.#deps;
    this.#deps.state.conversations.value = directory.conversations
      .map((conv) =>
        conversationView(
          conv,
          this.sorted(conv.id),
          this.#readMarkers.get(conv.id) ?? 0,
          (userId) => directory.presence(userId),
          this.#view,
        ),
      )
      .sort(byActivity);
  }

  /** The UI opened a conversation. */
  open(conversationId: string): void {
    const target = timelineSignal(this.#deps.state, conversationId);
    if (target.value === EMPTY_TIMELINE) this.render(conversationId);
  }

  // ---------------------------------------------------------------- paging back

  /**
   * Shows a page more; when not enough is kept locally, the seq before which the server's timeline should be
   * read (null: nothing older to fetch).
   */
  growWindow(conversationId: string): number | null {
    const sorted = this.sorted(conversationId);
    const window = (this.#windows.get(conversationId) ?? PAGE) + PAGE;
    this.#windows.set(conversationId, window);
    if (sorted.length >= window) return null;
    // Not enough kept locally: the server's timeline has the older system events (message ciphertext this
    // device already received is gone from the server; its plaintext is what we keep here).
    const localEarliest =
      sorted.find((i) => i.seq !== null)?.seq ?? (this.#deps.directory.known(conversationId)?.lastSeq ?? 0) + 1;
    // Pages of the server's timeline may add nothing here (messages whose ciphertext is gone): keep going back.
    const earliest = Math.min(localEarliest, this.#olderCursor.get(conversationId) ?? localEarliest);
    return earliest > 1 && !this.#oldestReached.has(conversationId) ? earliest : null;
  }

  /** A page of the server's timeline before `seq` was read. */
  pagedBack(conversationId: string, page: readonly TimelineEntry[]): void {
    const first = page[0]?.seq;
    if (first !== undefined) this.#olderCursor.set(conversationId, first);
    if (page.length < PAGE || first === 1) this.#oldestReached.add(conversationId);
  }

  setLoadingOlder(conversationId: string, loadingOlder: boolean): void {
    const target = timelineSignal(this.#deps.state, conversationId);
    target.value = { ...target.value, loadingOlder };
  }

  // ---------------------------------------------------------------- read markers and receipts

  /** The seq to mark read, or null when it is already. */
  readUpTo(conversationId: string): number | null {
    const conv = this.#deps.directory.known(conversationId);
    const seq = Math.max(conv?.lastSeq ?? 0, ...this.sorted(conversationId).map((i) => i.seq ?? 0));
    if (seq <= (this.#readMarkers.get(conversationId) ?? -1)) return null;
    this.#readMarkers.set(conversationId, seq);
    this.renderConversations();
    return seq;
  }

  /** A receipt: another of our devices read (read here too), or another member got or read our messages. */
  receipt(conversationId: string, userId: string, status: 'delivered' | 'read', seq: number): Change | null {
    if (userId === this.#deps.userId) {
      if (status === 'read' && seq > (this.#readMarkers.get(conversationId) ?? 0)) {
        this.#readMarkers.set(conversationId, seq);
        this.renderConversations();
      }
      return null;
    }
    const put: { item: ItemRecord }[] = [];
    for (const item of this.#of(conversationId).values()) {
      if (item.senderId !== this.#deps.userId || item.seq === null || item.kind !== 'message') continue;
      const applies = status === 'read' ? item.seq <= seq : item.seq === seq;
      if (applies && STATE_RANK[item.state] < STATE_RANK[status]) put.push({ item: { ...item, state: status } });
    }
    return put.length > 0 ? { put } : null;
  }

  // ---------------------------------------------------------------- local echoes of what this device sends

  /** A text message as it is shown before it is sent, and its content. */
  localText(
    conversationId: string,
    contentId: string,
    text: string,
    deviceId: number,
    replyTo?: MessageRef,
  ): { item: ItemRecord; content: Content } {
    const target = replyTo ? this.find(replyTo.conversationId, replyTo.contentId) : undefined;
    const quote = replyTo
      ? { contentId: replyTo.contentId, senderId: target?.senderId ?? null, excerpt: target ? excerptOf(target) : '' }
      : null;
    const item = this.#localItem(conversationId, contentId, deviceId, { text, replyTo: quote });
    const content: Content = {
      v: 1,
      id: contentId,
      kind: 'text',
      text,
      ...(quote ? { replyTo: { id: quote.contentId, senderId: quote.senderId, excerpt: quote.excerpt } } : {}),
    };
    return { item, content };
  }

  /** The caller's call event, shown at once. */
  localCall(conversationId: string, contentId: string, deviceId: number, call: CallEventView): ItemRecord {
    return this.#localItem(conversationId, contentId, deviceId, { text: callEventText(call, true), call });
  }

  /** An item of this device, not sent yet. */
  localItem(conversationId: string, contentId: string, deviceId: number, fields: Partial<ItemRecord>): ItemRecord {
    return this.#localItem(conversationId, contentId, deviceId, fields);
  }

  #localItem(conversationId: string, contentId: string, deviceId: number, fields: Partial<ItemRecord>): ItemRecord {
    const now = Date.now();
    return {
      ...blankItem(conversationId, contentKey(conversationId, contentId), null, new Date(now).toISOString()),
      contentId,
      senderId: this.#deps.userId,
      senderDeviceId: deviceId,
      localTime: now,
      state: 'sending',
      ...fields,
    };
  }

  /** What a sent content item changes here: the message gets its seq and server time, and is `sent`. */
  sent(conversationId: string, content: Content, stored: SendMessageResponse): Change {
    if (content.kind !== 'text' && content.kind !== 'call') return {};
    const item = this.find(conversationId, content.id);
    if (!item) return {};
    const resend = content.kind === 'text' && content.resendOf !== undefined;
    const next = { ...item };
    if (next.seq === null || !resend) next.seq = stored.seq;
    if (!resend) next.at = stored.createdAt;
    if (STATE_RANK[next.state] < STATE_RANK.sent) next.state = 'sent';
    return { put: [{ item: next }] };
  }

  /** A content item the server refused for good: a message still sending is failed. */
  failed(conversationId: string, content: Content): Change {
    if (content.kind !== 'text') return {};
    const item = this.find(conversationId, content.id);
    return item?.state === 'sending' ? { put: [{ item: { ...item, state: 'failed' } }] } : {};
  }

  // ---------------------------------------------------------------- received entries, one function per kind

  system(conversationId: string, entry: SystemEntry): Change {
    const item: ItemRecord = {
      ...blankItem(conversationId, seqKey(conversationId, entry.seq), entry.seq, entry.createdAt),
      kind: 'system',
      senderId: entry.senderId,
      text: systemText(entry.event, this.#deps.directory.nameOf),
    };
    return { put: [{ item }] };
  }

  text(conversationId: string, entry: MessageEntry, content: Content & { kind: 'text' }): Change {
    if (this.find(conversationId, content.id)) return {}; // a re-sent copy (or our own echo): never shown twice
    let seq = entry.seq;
    let at = entry.createdAt;
    const remove: ItemRecord[] = [];
    if (content.resendOf !== undefined) {
      const failed = this.#of(conversationId).get(seqKey(conversationId, content.resendOf));
      if (failed?.decryptError && failed.senderId === entry.senderId) {
        seq = content.resendOf;
        at = failed.at;
        remove.push(failed);
      }
    }
    const item: ItemRecord = {
      ...blankItem(conversationId, contentKey(conversationId, content.id), seq, at),
      contentId: content.id,
      senderId: entry.senderId,
      senderDeviceId: entry.senderDeviceId,
      text: content.text,
      replyTo: content.replyTo
        ? { contentId: content.replyTo.id, senderId: content.replyTo.senderId, excerpt: content.replyTo.excerpt }
        : null,
      ...(content.attachments ? { attachments: content.attachments.map(storedOf) } : {}),
    };
    return { put: [{ item }], remove };
  }

  /** An edit or a delete, by the message's own sender. */
  editOrDelete(conversationId: string, entry: MessageEntry, content: Content & { kind: 'edit' | 'delete' }): Change {
    const target = this.find(conversationId, content.target);
    if (!target || target.senderId !== entry.senderId || target.call) return {};
    return { put: [{ item: content.kind === 'edit' ? edited(target, content.text) : deleted(target) }] };
  }

  reaction(conversationId: string, entry: MessageEntry, content: Content & { kind: 'reaction' }): Change {
    const target = this.find(conversationId, content.target);
    if (!target) return {};
    return { put: [{ item: reacted(target, entry.senderId, content.emoji, content.on) }] };
  }

  call(conversationId: string, entry: MessageEntry, content: Content & { kind: 'call' }): Change {
    if (this.find(conversationId, content.id)) return {};
    const call: CallEventView = {
      callId: content.callId,
      media: content.media,
      outcome: content.outcome,
      durationSeconds: content.durationSeconds,
    };
    const item: ItemRecord = {
      ...blankItem(conversationId, contentKey(conversationId, content.id), entry.seq, entry.createdAt),
      contentId: content.id,
      senderId: entry.senderId,
      senderDeviceId: entry.senderDeviceId,
      text: callEventText(call, entry.senderId === this.#deps.userId),
      call,
    };
    return { put: [{ item }] };
  }

  undecryptable(conversationId: string, entry: MessageEntry, decryptError: DecryptErrorView): Change {
    const item: ItemRecord = {
      ...blankItem(conversationId, seqKey(conversationId, entry.seq), entry.seq, entry.createdAt),
      senderId: entry.senderId,
      senderDeviceId: entry.senderDeviceId,
      decryptError,
    };
    return { put: [{ item }] };
  }

  // ---------------------------------------------------------------- search

  async search(query: string): Promise<SearchHit[]> {
    const terms = tokenize(query);
    if (terms.length === 0) return [];
    let keys: Set<string> | undefined;
    for (const term of terms) {
      const found = await this.#deps.store.searchPrefix(term);
      keys = keys === undefined ? found : new Set([...keys].filter((k) => found.has(k)));
      if (keys.size === 0) return [];
    }
    const hits: SearchHit[] = [];
    for (const key of keys ?? []) {
      const item = await this.#deps.store.item(key);
      if (!item || item.deleted || !item.contentId) continue;
      hits.push({
        conversationId: item.conversationId,
        contentId: item.contentId,
        seq: item.seq,
        senderName: this.#deps.directory.nameOf(item.senderId),
        snippet: snippet(item.text, terms),
        at: item.at,
      });
    }
    return hits.sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, 50);
  }
}

// ---------------------------------------------------------------- item changes shared by sender and receiver

export const edited = (item: ItemRecord, text: string): ItemRecord => ({ ...item, text, edited: true });

export const deleted = (item: ItemRecord): ItemRecord => ({ ...item, text: '', deleted: true, attachments: [] });

/** `userId` toggles `emoji` on or off. */
export function reacted(item: ItemRecord, userId: string, emoji: string, on: boolean): ItemRecord {
  const users = (item.reactions[emoji] ?? []).filter((u) => u !== userId);
  return { ...item, reactions: { ...item.reactions, [emoji]: on ? [...users, userId] : users } };
}
