/**
 * What the engine keeps in its local store (IndexedDB in the browser, memory in tests): the record shapes the
 * stages share. Types only: the outbox's job records have their zod schema in `outbox.ts`.
 */
import type { StoredAttachment } from './attachments.ts';
import type { Content } from './content.ts';
import type { CallEventView, DecryptErrorView, MessageState } from './types.ts';

/** This browser's device: its identity and where its prekey ids stand. */
export interface LocalDevice {
  deviceId: number | null;
  identity: Uint8Array;
  registrationId: number;
  nextPreKeyId: number;
  signedPreKeyId: number;
}

export type RegisteredDevice = LocalDevice & { deviceId: number };

/** PQXDH: where this device's ML-KEM prekey ids stand (`meta` key `pq`). */
export interface PqKeysRecord {
  nextId: number;
  lastResortId: number;
}

/** A timeline item as stored. */
export interface ItemRecord {
  /** `conversationId|contentId` for messages, `conversationId|#seq` for system events and undecryptable ones. */
  key: string;
  conversationId: string;
  contentId: string | null;
  seq: number | null;
  kind: 'message' | 'system';
  senderId: string | null;
  senderDeviceId: number;
  at: string;
  /** Local clock, to order messages that have no seq yet. */
  localTime: number;
  text: string;
  replyTo: { contentId: string; senderId: string | null; excerpt: string } | null;
  reactions: Record<string, string[]>;
  edited: boolean;
  deleted: boolean;
  state: MessageState;
  decryptError: DecryptErrorView | null;
  /** A call event (`text` holds its wording); absent on other items. */
  call?: CallEventView | null;
  /** Search terms this item is indexed under. */
  terms: string[];
  /** Files (absent in items stored before attachments existed). */
  attachments?: StoredAttachment[];
}

/** One job of the outbox: a content item to encrypt and send to a conversation. */
export interface OutboxRecord {
  contentId: string;
  conversationId: string;
  clientMessageId: string;
  content: Content;
  queuedAt: number;
  /** The uploads the message references, named in clear for the server's checks. */
  attachmentIds?: string[];
}

/** The identity keys seen for a user's devices, and what the user verified. */
export interface TrustRecord {
  /** `deviceId:identityKeyB64`, sorted. */
  keys: string[];
  verifiedKeys: string[] | null;
  changed: boolean;
}

/** Our sender key in a group. */
export interface GroupRecord {
  /** Device addresses (`userId.deviceId`) holding our current sender key. */
  distributedTo: string[];
}

/** A person's or group's picture, decrypted. */
export interface AvatarRecord {
  subject: string;
  /** Server time of the announcement (ISO): a later one replaces it, an earlier one is ignored. */
  at: string;
  /** JPEG bytes; null when the picture was removed. */
  image: Uint8Array | null;
}
