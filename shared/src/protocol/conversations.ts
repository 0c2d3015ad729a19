import { z } from 'zod';
import { MAX_ATTACHMENTS_PER_MESSAGE } from './attachments.ts';
import { UserId } from './auth.ts';
import { MAX_DEVICES_PER_USER } from './devices.ts';
import { text } from './text.ts';

/**
 * Conversations: direct (exactly one per pair of users) and group. Every membership change and rename
 * is a system event in the conversation's sequence (`seq`), which messages will share.
 */

/** Members a group may have, its creator included. */
export const MAX_GROUP_MEMBERS = 256;
export const MAX_GROUP_NAME_LENGTH = 100;
export const MAX_AVATAR_REF_LENGTH = 512;

export const ConversationId = z.uuid();
export const ConversationKind = z.enum(['direct', 'group']);
export const MemberRole = z.enum(['owner', 'admin', 'member']);
export type MemberRole = z.infer<typeof MemberRole>;

const GroupName = text().trim().min(1).max(MAX_GROUP_NAME_LENGTH);
/** An attachment reference (opaque to the server); null removes the avatar. */
const AvatarRef = text().min(1).max(MAX_AVATAR_REF_LENGTH);
const distinct = (ids: readonly string[]) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length;
const UserIdList = z
  .array(UserId)
  .min(1)
  .max(MAX_GROUP_MEMBERS - 1)
  .refine(distinct, { message: 'User ids must be distinct' });

/** `POST /conversations`: a direct conversation with one user, or a group the caller owns. */
export const CreateConversationRequest = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('direct'), userId: UserId }),
  z.strictObject({
    kind: z.literal('group'),
    name: GroupName,
    avatar: AvatarRef.optional(),
    /** The other members (not the caller); may be empty. */
    memberIds: z
      .array(UserId)
      .max(MAX_GROUP_MEMBERS - 1)
      .refine(distinct, { message: 'User ids must be distinct' }),
  }),
]);
export type CreateConversationRequest = z.infer<typeof CreateConversationRequest>;

/** `PATCH /conversations/{id}`: rename and/or change the avatar (groups; owner and admins). */
export const UpdateConversationRequest = z
  .strictObject({ name: GroupName.optional(), avatar: AvatarRef.nullable().optional() })
  .refine((body) => body.name !== undefined || body.avatar !== undefined, {
    message: 'Give a name or an avatar',
  });
export type UpdateConversationRequest = z.infer<typeof UpdateConversationRequest>;

/** `POST /conversations/{id}/members` (owner and admins). */
export const AddMembersRequest = z.strictObject({ userIds: UserIdList });
export type AddMembersRequest = z.infer<typeof AddMembersRequest>;

/** `PATCH /conversations/{id}/members/{userId}` (owner only). */
export const ChangeRoleRequest = z.strictObject({ role: MemberRole });
export type ChangeRoleRequest = z.infer<typeof ChangeRoleRequest>;

export const ConversationPath = z.object({ conversationId: ConversationId });
export const ConversationMemberPath = z.object({ conversationId: ConversationId, userId: UserId });

export const ConversationMember = z.object({
  userId: UserId,
  displayName: text(),
  role: MemberRole,
  joinedAt: z.iso.datetime(),
  /** The member's read marker: the other members' read receipts, for a client that was offline when they came. */
  lastReadSeq: z.number().int().nonnegative(),
});
export type ConversationMember = z.infer<typeof ConversationMember>;

export const Conversation = z.object({
  id: ConversationId,
  kind: ConversationKind,
  /** Groups only (null for direct conversations). */
  name: text().nullable(),
  avatar: text().nullable(),
  createdBy: UserId,
  createdAt: z.iso.datetime(),
  lastActivityAt: z.iso.datetime(),
  /** The seq of the latest event or message (0: none). */
  lastSeq: z.number().int().nonnegative(),
  /** lastSeq minus the caller's read marker. */
  unreadCount: z.number().int().nonnegative(),
  /** The caller's role. */
  role: MemberRole,
  members: z.array(ConversationMember),
});
export type Conversation = z.infer<typeof Conversation>;

export const ConversationResponse = z.object({ conversation: Conversation });
export type ConversationResponse = z.infer<typeof ConversationResponse>;
export const ConversationListResponse = z.object({ conversations: z.array(Conversation) });
export type ConversationListResponse = z.infer<typeof ConversationListResponse>;

/** The server-written payload of a `system` event, by `event`. */
export const SystemEvent = z.discriminatedUnion('event', [
  z.object({ event: z.literal('created'), actorId: UserId, memberIds: z.array(UserId) }),
  z.object({
    event: z.literal('updated'),
    actorId: UserId,
    name: text().optional(),
    avatar: text().nullable().optional(),
  }),
  z.object({ event: z.literal('members_added'), actorId: UserId, userIds: z.array(UserId) }),
  z.object({ event: z.literal('member_removed'), actorId: UserId, userId: UserId }),
  z.object({ event: z.literal('member_left'), actorId: UserId, userId: UserId }),
  /** `actorId` null: the server promoted a member when the last owner left. */
  z.object({ event: z.literal('role_changed'), actorId: UserId.nullable(), userId: UserId, role: MemberRole }),
]);
export type SystemEvent = z.infer<typeof SystemEvent>;

/**
 * `GET /conversations/{id}/messages?after=&limit=` (oldest first, after a seq) or `?before=&limit=` (the
 * `limit` entries just before a seq, still oldest first: scrolling back through history).
 */
export const TimelineQuery = z
  .object({
    after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .refine((query) => query.after === undefined || query.before === undefined, {
    message: 'Give after or before, not both',
  });
export type TimelineQuery = z.infer<typeof TimelineQuery>;

/**
 * The largest ciphertext (an envelope, a sender-key message) in bytes: the one limit. The schema below counts
 * the decoded bytes of the base64; the database's CHECKs (`length(ciphertext) BETWEEN 1 AND 65536`,
 * migrations 0006 and 0007) hold the same number, and `functions/test/adapters/ciphertext-limit.integ.test.ts`
 * fails if they ever differ.
 */
export const MAX_CIPHERTEXT_BYTES = 64 * 1024;

/** The bytes a padded base64 string decodes to. */
export const base64DecodedLength = (value: string) =>
  (value.length / 4) * 3 - (value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0);
/** Envelopes per message: every live device of every member but the sender's. */
export const MAX_ENVELOPES = MAX_GROUP_MEMBERS * MAX_DEVICES_PER_USER;

const CiphertextB64 = text()
  .min(4)
  .max(Math.ceil(MAX_CIPHERTEXT_BYTES / 3) * 4)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'Expected base64')
  .refine((value) => value.length % 4 === 0, { message: 'Expected base64' })
  .refine((value) => base64DecodedLength(value) <= MAX_CIPHERTEXT_BYTES, {
    message: `At most ${MAX_CIPHERTEXT_BYTES} bytes`,
  });
/** The E2E library's message type: a PreKeySignalMessage starts a session, a SignalMessage continues one. */
export const EnvelopeType = z.enum(['prekey', 'signal']);

/** A user's device, as the E2E library addresses it. */
export const DeviceAddress = z.strictObject({
  userId: UserId,
  deviceId: z.number().int().min(1).max(0x7fffffff),
});
export type DeviceAddress = z.infer<typeof DeviceAddress>;

/** One recipient device's ciphertext of a message. */
export const Envelope = DeviceAddress.extend({ type: EnvelopeType, ciphertext: CiphertextB64 });
export type Envelope = z.infer<typeof Envelope>;

const distinctDevices = (list: readonly DeviceAddress[]) =>
  new Set(list.map((e) => `${e.userId.toLowerCase()}/${e.deviceId}`)).size === list.length;

/**
 * Pairwise traffic (direct conversations, sender-key distribution): one envelope for every live device of
 * every member except the sending device.
 */
/** Attachments the message carries (their keys are inside the ciphertext); checked by the server. */
const AttachmentIds = z
  .array(z.uuid())
  .min(1)
  .max(MAX_ATTACHMENTS_PER_MESSAGE)
  .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, {
    message: 'Attachment ids must be distinct',
  })
  .optional();

export const PairwiseMessage = z.strictObject({
  clientMessageId: z.uuid(),
  attachmentIds: AttachmentIds,
  envelopes: z.array(Envelope).max(MAX_ENVELOPES).refine(distinctDevices, { message: 'One envelope per device' }),
});
/**
 * Group traffic under the sender's sender key: one ciphertext for all, and the devices the sender has
 * distributed its sender key to, which must be exactly the live devices of the members but the sending one.
 */
export const SenderKeyMessage = z.strictObject({
  clientMessageId: z.uuid(),
  attachmentIds: AttachmentIds,
  senderKeyCiphertext: CiphertextB64,
  recipients: z.array(DeviceAddress).max(MAX_ENVELOPES).refine(distinctDevices, { message: 'One entry per device' }),
});

/**
 * `POST /conversations/{id}/messages` and the WebSocket `message.send`: a pairwise or a sender-key message
 * (`409 devices_changed` when its devices are not the conversation's). `clientMessageId` makes a retry
 * return the stored seq and store or deliver nothing twice. Edits, deletes, replies and reactions are
 * messages too: what they are is inside the ciphertext.
 */
export const SendMessageRequest = z.union([PairwiseMessage, SenderKeyMessage]);
export type SendMessageRequest = z.infer<typeof SendMessageRequest>;
export const SendMessageResponse = z.object({ seq: z.number().int().positive(), createdAt: z.iso.datetime() });
export type SendMessageResponse = z.infer<typeof SendMessageResponse>;

/** What a device receives of a message: its own envelope, or the group's sender-key ciphertext. */
export const ReceivedCiphertext = z.object({
  type: z.enum(['prekey', 'signal', 'sender_key']),
  ciphertext: text(),
});
export type ReceivedCiphertext = z.infer<typeof ReceivedCiphertext>;

/** One row of a conversation's timeline: a server-written system event or an encrypted message. */
export const TimelineEntry = z.discriminatedUnion('type', [
  z.object({
    seq: z.number().int().positive(),
    type: z.literal('system'),
    /** Who caused it; null when the server did (an owner promoted on the last owner's leaving). */
    senderId: UserId.nullable(),
    createdAt: z.iso.datetime(),
    event: SystemEvent,
  }),
  z.object({
    seq: z.number().int().positive(),
    type: z.literal('message'),
    senderId: UserId,
    senderDeviceId: z.number().int().positive(),
    createdAt: z.iso.datetime(),
    /**
     * What the caller's device can decrypt: its envelope, or the sender-key ciphertext. Null for the sending
     * device, devices added later, and once the device has acknowledged it (the server keeps no ciphertext a
     * device has already received) or the retention period has passed.
     */
    envelope: ReceivedCiphertext.nullable(),
  }),
]);
export type TimelineEntry = z.infer<typeof TimelineEntry>;

export const TimelineResponse = z.object({
  messages: z.array(TimelineEntry),
  /** The conversation's latest seq: more to fetch while the last entry's seq is below it. */
  lastSeq: z.number().int().nonnegative(),
});
export type TimelineResponse = z.infer<typeof TimelineResponse>;

/** `POST /conversations/{id}/read`: the caller has read up to `seq`. The marker never moves back. */
export const ReadMarkerRequest = z.strictObject({ seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
export type ReadMarkerRequest = z.infer<typeof ReadMarkerRequest>;
export const ReadMarkerResponse = z.object({
  lastReadSeq: z.number().int().nonnegative(),
  unreadCount: z.number().int().nonnegative(),
});
export type ReadMarkerResponse = z.infer<typeof ReadMarkerResponse>;

/** `GET /sync?cursor=&limit=`: what this device has not acknowledged yet, oldest first, across conversations. */
export const SyncQuery = z.object({
  /** The `cursor` of the previous page; omit it to start from the oldest unacknowledged delivery. */
  cursor: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type SyncQuery = z.infer<typeof SyncQuery>;

export const SyncEntry = z.object({ conversationId: ConversationId, entry: TimelineEntry });
export type SyncEntry = z.infer<typeof SyncEntry>;

export const SyncResponse = z.object({
  entries: z.array(SyncEntry),
  /** Pass back as `cursor` for the next page. */
  cursor: text(),
  /** More unacknowledged deliveries follow this page. */
  more: z.boolean(),
});
export type SyncResponse = z.infer<typeof SyncResponse>;

/** One delivery to the caller's device: a conversation's entry, by seq. */
export const DeliveryRef = z.strictObject({ conversationId: ConversationId, seq: z.number().int().positive() });
export type DeliveryRef = z.infer<typeof DeliveryRef>;
export const MAX_ACKS_PER_REQUEST = 500;

/** `POST /sync/ack` (and the WebSocket `message.ack`): the device has received and processed these. */
export const AckRequest = z.strictObject({ deliveries: z.array(DeliveryRef).min(1).max(MAX_ACKS_PER_REQUEST) });
export type AckRequest = z.infer<typeof AckRequest>;
export const AckResponse = z.object({ acknowledged: z.number().int().nonnegative() });
export type AckResponse = z.infer<typeof AckResponse>;

export const PresenceStatus = z.enum(['online', 'offline']);
export const Presence = z.object({
  userId: UserId,
  status: PresenceStatus,
  /** When the user was last connected; null when never (or not within the presence retention). */
  lastSeenAt: z.iso.datetime().nullable(),
});
export type Presence = z.infer<typeof Presence>;
/** `GET /conversations/{id}/presence`: the members' presence (members only). */
export const PresenceResponse = z.object({ presence: z.array(Presence) });
export type PresenceResponse = z.infer<typeof PresenceResponse>;
