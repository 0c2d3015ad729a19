import { z } from 'zod';
import { UserId } from './auth.ts';
import {
  ConversationId,
  DeliveryRef,
  Envelope,
  MAX_ACKS_PER_REQUEST,
  PresenceStatus,
  ReceivedCiphertext,
  SendMessageRequest,
  TimelineEntry,
} from './conversations.ts';
import { MAX_DEVICES_PER_USER } from './devices.ts';
import { ErrorBody } from './errors.ts';
import { text } from './text.ts';

/**
 * WebSocket frames. Client frames are selected by `action` (API Gateway's
 * `$request.body.action` route selection); server frames by `type`.
 * Every client frame carries an `id` so the answer (ack or error) can be matched.
 */
export const RequestId = text().min(1).max(64);

export const PingFrame = z.object({
  action: z.literal('ping'),
  id: RequestId,
  /** Echoed back untouched; lets a client measure round trips. */
  payload: text().max(1024).optional(),
});
export type PingFrame = z.infer<typeof PingFrame>;

/** Stores a message (as `POST /conversations/{id}/messages`) and delivers it; answered by an `ack` with its seq. */
export const MessageSendFrame = z.strictObject({
  action: z.literal('message.send'),
  id: RequestId,
  conversationId: ConversationId,
  message: SendMessageRequest,
});
export type MessageSendFrame = z.infer<typeof MessageSendFrame>;

/** This device has received and processed these deliveries: they leave its inbox, and their senders learn. */
export const MessageAckFrame = z.strictObject({
  action: z.literal('message.ack'),
  id: RequestId,
  deliveries: z.array(DeliveryRef).min(1).max(MAX_ACKS_PER_REQUEST),
});
export type MessageAckFrame = z.infer<typeof MessageAckFrame>;

/** The user has read the conversation up to `seq`: moves the read marker and tells the other members. */
export const ReceiptReadFrame = z.strictObject({
  action: z.literal('receipt.read'),
  id: RequestId,
  conversationId: ConversationId,
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type ReceiptReadFrame = z.infer<typeof ReceiptReadFrame>;

export const TypingState = z.enum(['start', 'stop']);
/** Relayed to the other members' connections; rate-limited; never stored. */
export const TypingFrame = z.strictObject({
  action: z.literal('typing'),
  id: RequestId,
  conversationId: ConversationId,
  state: TypingState,
});
export type TypingFrame = z.infer<typeof TypingFrame>;

/** Keeps the user online (send one at least every PRESENCE_HEARTBEAT_SECONDS). */
export const PresenceHeartbeatFrame = z.strictObject({ action: z.literal('presence.heartbeat'), id: RequestId });
export type PresenceHeartbeatFrame = z.infer<typeof PresenceHeartbeatFrame>;
/** A heartbeat keeps presence for this long; clients send one every third of it. */
export const PRESENCE_TTL_SECONDS = 90;
export const PRESENCE_HEARTBEAT_SECONDS = 30;

/**
 * Call signalling (offer, answer, ICE candidates, hang-up), end-to-end encrypted per recipient device and
 * relayed, never stored, to members of the conversation only.
 */
export const CallSignalFrame = z.strictObject({
  action: z.literal('call.signal'),
  id: RequestId,
  conversationId: ConversationId,
  callId: z.uuid(),
  envelopes: z
    .array(Envelope)
    .min(1)
    .max(MAX_DEVICES_PER_USER * 2),
});
export type CallSignalFrame = z.infer<typeof CallSignalFrame>;

export const ClientFrame = z.discriminatedUnion('action', [
  PingFrame,
  MessageSendFrame,
  MessageAckFrame,
  ReceiptReadFrame,
  TypingFrame,
  PresenceHeartbeatFrame,
  CallSignalFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientAction = ClientFrame['action'];

export const PongFrame = z.object({
  type: z.literal('pong'),
  id: RequestId,
  payload: text().optional(),
  at: z.number().int(),
});
export type PongFrame = z.infer<typeof PongFrame>;

export const ErrorFrame = z.object({
  type: z.literal('error'),
  /** The request's id when the frame carried one that could be read. */
  id: RequestId.nullable(),
  error: ErrorBody.shape.error,
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

/** The answer to a client frame that succeeded; `message.send` adds where the message was stored. */
export const AckFrame = z.object({
  type: z.literal('ack'),
  id: RequestId,
  seq: z.number().int().positive().optional(),
  createdAt: z.iso.datetime().optional(),
  /** `message.send`: false when this was a retry of a message already stored. */
  created: z.boolean().optional(),
});
export type AckFrame = z.infer<typeof AckFrame>;

/** A new timeline entry (message or system event) for this device: acknowledge it with `message.ack`. */
export const EntryFrame = z.object({
  type: z.literal('entry'),
  conversationId: ConversationId,
  entry: TimelineEntry,
});
export type EntryFrame = z.infer<typeof EntryFrame>;

/** `delivered`: a device of `userId` acknowledged message `seq`. `read`: `userId` read up to `seq`. */
export const ReceiptFrame = z.object({
  type: z.literal('receipt'),
  conversationId: ConversationId,
  userId: UserId,
  status: z.enum(['delivered', 'read']),
  seq: z.number().int().nonnegative(),
  at: z.iso.datetime(),
});
export type ReceiptFrame = z.infer<typeof ReceiptFrame>;

export const TypingNotice = z.object({
  type: z.literal('typing'),
  conversationId: ConversationId,
  userId: UserId,
  state: TypingState,
});
export type TypingNotice = z.infer<typeof TypingNotice>;

/** A user who shares a conversation with you came online or went offline. */
export const PresenceNotice = z.object({
  type: z.literal('presence'),
  userId: UserId,
  status: PresenceStatus,
  lastSeenAt: z.iso.datetime().nullable(),
});
export type PresenceNotice = z.infer<typeof PresenceNotice>;

export const CallSignalNotice = z.object({
  type: z.literal('call.signal'),
  conversationId: ConversationId,
  callId: z.uuid(),
  fromUserId: UserId,
  fromDeviceId: z.number().int().positive(),
  envelope: ReceivedCiphertext,
});
export type CallSignalNotice = z.infer<typeof CallSignalNotice>;

export const ServerFrame = z.discriminatedUnion('type', [
  PongFrame,
  ErrorFrame,
  AckFrame,
  EntryFrame,
  ReceiptFrame,
  TypingNotice,
  PresenceNotice,
  CallSignalNotice,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
