import { z } from 'zod';
import { UserId } from './auth.ts';
import { MAX_DEVICES_PER_USER } from './devices.ts';

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

const GroupName = z.string().trim().min(1).max(MAX_GROUP_NAME_LENGTH);
/** An attachment reference (opaque to the server); null removes the avatar. */
const AvatarRef = z.string().min(1).max(MAX_AVATAR_REF_LENGTH);
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
  displayName: z.string(),
  role: MemberRole,
  joinedAt: z.iso.datetime(),
});
export type ConversationMember = z.infer<typeof ConversationMember>;

export const Conversation = z.object({
  id: ConversationId,
  kind: ConversationKind,
  /** Groups only (null for direct conversations). */
  name: z.string().nullable(),
  avatar: z.string().nullable(),
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
    name: z.string().optional(),
    avatar: z.string().nullable().optional(),
  }),
  z.object({ event: z.literal('members_added'), actorId: UserId, userIds: z.array(UserId) }),
  z.object({ event: z.literal('member_removed'), actorId: UserId, userId: UserId }),
  z.object({ event: z.literal('member_left'), actorId: UserId, userId: UserId }),
  /** `actorId` null: the server promoted a member when the last owner left. */
  z.object({ event: z.literal('role_changed'), actorId: UserId.nullable(), userId: UserId, role: MemberRole }),
]);
export type SystemEvent = z.infer<typeof SystemEvent>;

/** `GET /conversations/{id}/messages?after=&limit=`: the timeline after a seq, oldest first. */
export const TimelineQuery = z.object({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type TimelineQuery = z.infer<typeof TimelineQuery>;

export const MAX_CIPHERTEXT_BYTES = 64 * 1024;
/** Envelopes per message: every live device of every member but the sender's. */
export const MAX_ENVELOPES = MAX_GROUP_MEMBERS * MAX_DEVICES_PER_USER;

const CiphertextB64 = z
  .string()
  .min(4)
  .max(Math.ceil(MAX_CIPHERTEXT_BYTES / 3) * 4)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'Expected base64')
  .refine((value) => value.length % 4 === 0, { message: 'Expected base64' });
/** The E2E library's message type: a PreKeySignalMessage starts a session, a SignalMessage continues one. */
export const EnvelopeType = z.enum(['prekey', 'signal']);

/** One recipient device's ciphertext of a message. */
export const Envelope = z.strictObject({
  userId: UserId,
  deviceId: z.number().int().min(1).max(0x7fffffff),
  type: EnvelopeType,
  ciphertext: CiphertextB64,
});
export type Envelope = z.infer<typeof Envelope>;

/**
 * `POST /conversations/{id}/messages`: one envelope for every live device of every member except the
 * sending device (`409 devices_changed` otherwise). `clientMessageId` makes a retry return the stored seq.
 */
export const SendMessageRequest = z.strictObject({
  clientMessageId: z.uuid(),
  envelopes: z
    .array(Envelope)
    .max(MAX_ENVELOPES)
    .refine((list) => new Set(list.map((e) => `${e.userId.toLowerCase()}/${e.deviceId}`)).size === list.length, {
      message: 'One envelope per device',
    }),
});
export type SendMessageRequest = z.infer<typeof SendMessageRequest>;
export const SendMessageResponse = z.object({ seq: z.number().int().positive(), createdAt: z.iso.datetime() });
export type SendMessageResponse = z.infer<typeof SendMessageResponse>;

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
    /** The envelope for the caller's device; null for the sending device and devices added later. */
    envelope: z.object({ type: EnvelopeType, ciphertext: z.string() }).nullable(),
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
