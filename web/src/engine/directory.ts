/**
 * What the engine knows of the server's side of things: the conversations and their members, people's names,
 * each user's live devices (cached until a send says they changed) and presence. Changes are announced
 * through `onChange` (the timeline re-renders); device lists through `onDevices` (trust observes the keys,
 * PQXDH remembers which devices are post-quantum).
 */
import type { Conversation, PublicDevice } from '@ciphertalk/shared/protocol';
import type { ApiClient } from './api-client.ts';
import { EngineError } from './errors.ts';

export interface Presence {
  status: 'online' | 'offline';
  lastSeenAt: string | null;
}

export interface DirectoryDeps {
  readonly api: ApiClient;
  readonly userId: string;
  readonly log: (event: string, detail?: Record<string, unknown>) => void;
  /** The conversation list changed (a refresh, a new one, presence); null: all of them. */
  readonly onChange: (conversationId: string | null) => void;
  /** A user's device list (ours too) as the server gave it. */
  readonly onDevices: (userId: string, devices: readonly PublicDevice[]) => Promise<unknown>;
}

export class Directory {
  readonly #deps: DirectoryDeps;
  readonly #conversations = new Map<string, Conversation>();
  readonly #names = new Map<string, string>();
  readonly #devices = new Map<string, PublicDevice[]>();
  readonly #presence = new Map<string, Presence>();

  constructor(deps: DirectoryDeps) {
    this.#deps = deps;
  }

  get conversations(): Conversation[] {
    return [...this.#conversations.values()];
  }

  known(conversationId: string): Conversation | undefined {
    return this.#conversations.get(conversationId);
  }

  /** The conversation, from the server when not known yet. */
  async conversation(conversationId: string): Promise<Conversation> {
    const known = this.#conversations.get(conversationId);
    if (known) return known;
    const { conversation } = await this.#deps.api.call('GET /conversations/{conversationId}', {
      path: { conversationId },
    });
    this.adopt(conversation);
    return conversation;
  }

  async refresh(): Promise<void> {
    const { conversations } = await this.#deps.api.call('GET /conversations');
    this.#conversations.clear();
    // (Sender keys rotate at the next group send that finds a device it went to no longer among the targets.)
    for (const conv of conversations) this.#remember(conv);
    this.#deps.onChange(null);
  }

  /** Reads the conversation again (membership may have changed). */
  async reload(conversationId: string): Promise<void> {
    const { conversation } = await this.#deps.api.call('GET /conversations/{conversationId}', {
      path: { conversationId },
    });
    this.#remember(conversation);
  }

  adopt(conversation: Conversation): void {
    this.#remember(conversation);
    this.#deps.onChange(conversation.id);
  }

  forget(conversationId: string): void {
    this.#conversations.delete(conversationId);
    this.#deps.onChange(conversationId);
  }

  memberIds(conversationId: string): string[] {
    const conv = this.#conversations.get(conversationId);
    if (!conv) throw new EngineError('not_found', 'No such conversation');
    return conv.members.map((m) => m.userId);
  }

  /** The other member of a direct conversation. */
  peerOf(conversationId: string): { userId: string; displayName: string } | null {
    const conv = this.#conversations.get(conversationId);
    const peer = conv?.kind === 'direct' ? conv.members.find((m) => m.userId !== this.#deps.userId) : undefined;
    return peer ? { userId: peer.userId, displayName: peer.displayName } : null;
  }

  rememberName(userId: string, displayName: string): void {
    this.#names.set(userId, displayName);
  }

  nameOf = (userId: string | null): string => {
    if (userId === null) return 'CipherTalk';
    if (userId === this.#deps.userId) return 'You';
    return this.#names.get(userId) ?? 'Someone';
  };

  async ensureNames(ids: readonly (string | null)[]): Promise<void> {
    for (const id of ids) {
      if (id === null || id === this.#deps.userId || this.#names.has(id)) continue;
      try {
        const { user } = await this.#deps.api.call('GET /users/{userId}', { path: { userId: id } });
        this.#names.set(id, user.displayName);
      } catch {
        // the name stays "Someone"
      }
    }
  }

  /** A user's live devices (cached until a send says they changed, or `fresh`). */
  async devicesOf(userId: string, fresh = false): Promise<PublicDevice[]> {
    const cached = this.#devices.get(userId);
    if (cached && !fresh) return cached;
    const { devices } = await this.#deps.api.call('GET /users/{userId}/devices', { path: { userId } });
    this.#devices.set(userId, devices);
    await this.#deps.onDevices(userId, devices);
    return devices;
  }

  forgetDevices(userIds: Iterable<string>): void {
    for (const userId of userIds) this.#devices.delete(userId);
  }

  presence(userId: string): Presence | undefined {
    return this.#presence.get(userId);
  }

  setPresence(userId: string, presence: Presence): void {
    this.#presence.set(userId, presence);
    this.#deps.onChange(null);
  }

  async loadPresence(conversationId: string): Promise<void> {
    try {
      const { presence } = await this.#deps.api.call('GET /conversations/{conversationId}/presence', {
        path: { conversationId },
      });
      for (const p of presence) this.#presence.set(p.userId, { status: p.status, lastSeenAt: p.lastSeenAt });
      this.#deps.onChange(null);
    } catch (error) {
      this.#deps.log('presence.unavailable', { error: String(error) });
    }
  }

  #remember(conv: Conversation): void {
    this.#conversations.set(conv.id, conv);
    for (const m of conv.members) this.#names.set(m.userId, m.displayName);
  }
}
