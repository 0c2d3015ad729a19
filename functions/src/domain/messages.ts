import {
  type DeliveryRef,
  type DeviceMismatch,
  ErrorCode,
  type ReceivedCiphertext,
  type SendMessageRequest,
  type SyncEntry,
  type SyncQuery,
  type SystemEvent,
  type TimelineEntry,
  type TimelineQuery,
} from '@ciphertalk/shared/protocol';
import type { Db } from '#ports/db.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import { AttachmentInvalidError, checkAttachments } from './attachments.ts';
import { AppError, ForbiddenError, NotFoundError } from './errors.ts';
import { deliverMessage, type FanoutResult } from './fanout.ts';
import type { Realtime } from './realtime.ts';
import type { Principal } from './sessions.ts';

/**
 * The ports of the messaging path, passed as one deps object (each function takes the part it uses): the
 * database, the attachment store, and the real-time side (connection registry and @connections).
 */
export interface MessagingDeps {
  readonly db: Db;
  readonly store: ObjectStore;
  readonly realtime: Realtime;
}

/** What notices and presence use: no attachments. */
export type NoticeDeps = Pick<MessagingDeps, 'db' | 'realtime'>;

/** The device a message comes from or a delivery goes to. */
export interface DeviceRef {
  readonly userId: string;
  readonly deviceId: number;
}

/**
 * `409 devices_changed`: the typed lists (`devices: { missing, extra }`) the client acts on, and the same
 * facts as `issues` (`userId/deviceId`: `missing` | `extra`) for people reading the answer.
 */
export class DevicesChangedError extends AppError {
  override readonly name = 'DevicesChangedError';
  constructor(issues: readonly { path: string; message: string }[]) {
    super(409, ErrorCode.DevicesChanged, "The message's devices do not match the conversation's", {
      issues,
      devices: mismatchOf(issues),
    });
  }
}

/** The SQL's `userId/deviceId` issues as device lists. */
function mismatchOf(issues: readonly { path: string; message: string }[]): DeviceMismatch {
  const mismatch: { missing: DeviceRef[]; extra: DeviceRef[] } = { missing: [], extra: [] };
  for (const { path, message } of issues) {
    const [userId = '', deviceId = ''] = path.split('/');
    if (message === 'missing' || message === 'extra') mismatch[message].push({ userId, deviceId: Number(deviceId) });
  }
  return mismatch;
}

const notFound = () => new NotFoundError('No such conversation');

/** A registered device is needed to send or receive: a session before `POST /devices` has none. */
export function deviceOf(principal: Principal): DeviceRef {
  if (principal.deviceId === null) throw new ForbiddenError("Register this session's device first");
  return { userId: principal.userId, deviceId: principal.deviceId };
}

/**
 * The device sending to a conversation. A session with no device may not send (403), but a non-member
 * learns nothing from that: it gets the 404 of a conversation that does not exist.
 */
export async function sendingDevice(
  { db }: Pick<MessagingDeps, 'db'>,
  principal: Principal,
  conversationId: string,
): Promise<DeviceRef> {
  if (principal.deviceId !== null) return { userId: principal.userId, deviceId: principal.deviceId };
  const [member] = await db.query(
    'SELECT 1 FROM conversation_members WHERE conversation_id = $1::uuid AND user_id = $2::uuid',
    [conversationId, principal.userId],
  );
  if (!member) throw notFound();
  return deviceOf(principal);
}

export interface StoredMessage {
  readonly conversationId: string;
  readonly seq: number;
  readonly createdAt: string;
  /** False for a retry of a message already stored: nothing was stored, nothing is to be delivered. */
  readonly created: boolean;
  /** The conversation's members when the message was stored (empty for a retry). */
  readonly memberIds: readonly string[];
}

/**
 * Stores a message with one call of the `send_message` SQL function (functions/definitions/send_message.sql),
 * after checking its attachments when it names any (one more query, and a HEAD per upload): checks the sender
 * is a member on a live device, that the envelopes (or the sender-key recipients) are exactly the live devices
 * of the members but the sending one, answers a retry with the stored seq, and writes the message at the
 * conversation's next seq with one delivery per recipient device.
 */
export async function storeMessage(
  deps: Pick<MessagingDeps, 'db' | 'store'>,
  sender: DeviceRef,
  conversationId: string,
  request: SendMessageRequest,
): Promise<StoredMessage> {
  const { db } = deps;
  const attachmentIds = request.attachmentIds?.map((id) => id.toLowerCase()) ?? [];
  if (attachmentIds.length > 0) await checkAttachments(deps, sender, conversationId, attachmentIds);
  const recipients = 'envelopes' in request ? request.envelopes : request.recipients;
  const senderKey = 'senderKeyCiphertext' in request ? request.senderKeyCiphertext : null;
  const [row] = await db.query<{
    outcome: 'created' | 'duplicate' | 'not_member' | 'devices_changed' | 'bad_attachments';
    seq: string | null;
    created_at: Date | null;
    issues: { path: string; message: string }[] | null;
    member_ids: string | null;
  }>('SELECT * FROM send_message($1::uuid, $2::uuid, $3::int, $4::uuid, $5::jsonb, $6::text, $7::jsonb)', [
    conversationId,
    sender.userId,
    String(sender.deviceId),
    request.clientMessageId,
    JSON.stringify(recipients),
    senderKey,
    JSON.stringify(attachmentIds),
  ]);
  if (!row || row.outcome === 'not_member') throw notFound();
  if (row.outcome === 'devices_changed') throw new DevicesChangedError(row.issues ?? []);
  if (row.outcome === 'bad_attachments') throw new AttachmentInvalidError(row.issues ?? []);
  return {
    conversationId,
    seq: Number(row.seq),
    createdAt: (row.created_at as Date).toISOString(),
    created: row.outcome === 'created',
    memberIds: row.member_ids ? row.member_ids.split(',') : [],
  };
}

/** How the sender's request is answered once the message is durable (the WebSocket ack; nothing for REST). */
export type SendAck = (stored: StoredMessage) => Promise<unknown>;

/** What became of the live delivery: counted, logged and metered by the caller, never the sender's error. */
export type FanoutReport = (outcome: FanoutResult | { error: unknown }) => void;

/**
 * The send use case, for the WebSocket and the REST handler alike: store (durable, idempotent on
 * clientMessageId), then answer the sender and fan out to the recipients' connections together, then report
 * what the fan-out did. Once the message is stored and acknowledged, a failed fan-out is never reported to
 * the sender as a failure of its request: it is reported to `report`, and the recipients get the message
 * from `GET /sync`.
 */
export async function sendMessage(
  deps: MessagingDeps & { readonly report: FanoutReport },
  sender: DeviceRef,
  conversationId: string,
  request: SendMessageRequest,
  ack: SendAck = async () => undefined,
): Promise<StoredMessage> {
  const stored = await storeMessage(deps, sender, conversationId, request);
  const fanout = stored.created
    ? deliverMessage(deps, sender, stored, request).then(
        (result) => deps.report(result),
        (error: unknown) => deps.report({ error }),
      )
    : null;
  await Promise.all([ack(stored), fanout]);
  return stored;
}

/** What each recipient device gets of a stored message: its envelope, or the shared sender-key ciphertext. */
export function ciphertextFor(request: SendMessageRequest): (device: DeviceRef) => ReceivedCiphertext | null {
  if ('senderKeyCiphertext' in request) {
    const shared: ReceivedCiphertext = { type: 'sender_key', ciphertext: request.senderKeyCiphertext };
    const recipients = new Set(request.recipients.map((r) => `${r.userId.toLowerCase()}/${r.deviceId}`));
    return (device) => (recipients.has(`${device.userId}/${device.deviceId}`) ? shared : null);
  }
  const envelopes = new Map(
    request.envelopes.map((e) => [
      `${e.userId.toLowerCase()}/${e.deviceId}`,
      { type: e.type, ciphertext: e.ciphertext },
    ]),
  );
  return (device) => envelopes.get(`${device.userId}/${device.deviceId}`) ?? null;
}

interface EntryRow extends Record<string, unknown> {
  seq: string;
  type: 'system' | 'message';
  sender_id: string | null;
  sender_device_id: number | null;
  payload: SystemEvent | null;
  created_at: Date;
  /** The device's delivery: present, and not yet acknowledged. */
  pending: boolean | null;
  envelope_type: 'prekey' | 'signal' | null;
  ciphertext: Buffer | null;
  sender_key_ciphertext: Buffer | null;
}

/** The timeline columns of `messages m` and the device's delivery `d` (LEFT JOINed). */
const ENTRY_COLUMNS = `m.seq, m.type, m.sender_id, m.sender_device_id, m.payload, m.created_at,
  (d.id IS NOT NULL AND d.acked_at IS NULL) AS pending, d.envelope_type, d.ciphertext,
  CASE WHEN d.id IS NOT NULL AND d.acked_at IS NULL THEN m.sender_key_ciphertext END AS sender_key_ciphertext`;

function toEntry(row: EntryRow): TimelineEntry {
  const common = { seq: Number(row.seq), createdAt: row.created_at.toISOString() };
  if (row.type === 'system') {
    return { ...common, type: 'system', senderId: row.sender_id, event: row.payload as SystemEvent };
  }
  let envelope: ReceivedCiphertext | null = null;
  if (row.pending && row.envelope_type && row.ciphertext) {
    envelope = { type: row.envelope_type, ciphertext: row.ciphertext.toString('base64') };
  } else if (row.pending && row.sender_key_ciphertext) {
    envelope = { type: 'sender_key', ciphertext: row.sender_key_ciphertext.toString('base64') };
  }
  return {
    ...common,
    type: 'message',
    senderId: row.sender_id ?? '',
    senderDeviceId: Number(row.sender_device_id),
    envelope,
  };
}

/**
 * The caller's timeline, oldest first, at most `limit` entries: after `after`, or just before `before`
 * (scrolling back); members only. Keyset pagination on the primary key (conversation_id, seq).
 */
export async function readTimeline(
  { db }: Pick<MessagingDeps, 'db'>,
  principal: Principal,
  conversationId: string,
  query: TimelineQuery,
): Promise<{ messages: TimelineEntry[]; lastSeq: number }> {
  const [member] = await db.query<{ next_seq: string }>(
    `SELECT c.next_seq FROM conversations c
       JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = $2::uuid
      WHERE c.id = $1::uuid`,
    [conversationId, principal.userId],
  );
  if (!member) throw notFound();
  const backwards = query.before !== undefined;
  const bound = backwards ? `m.seq < $2::bigint ORDER BY m.seq DESC` : `m.seq > $2::bigint ORDER BY m.seq`;
  const rows = await db.query<EntryRow>(
    `SELECT ${ENTRY_COLUMNS} FROM messages m
       LEFT JOIN deliveries d ON d.conversation_id = m.conversation_id AND d.seq = m.seq
            AND d.user_id = $4::uuid AND d.device_id = $5::int
      WHERE m.conversation_id = $1::uuid AND ${bound} LIMIT $3::int`,
    [
      conversationId,
      String(query.before ?? query.after ?? 0),
      String(query.limit),
      principal.userId,
      String(principal.deviceId ?? 0),
    ],
  );
  if (backwards) rows.reverse();
  return { messages: rows.map(toEntry), lastSeq: Number(member.next_seq) - 1 };
}

/**
 * `GET /sync`: the device's unacknowledged deliveries, oldest first, across conversations. Entries stay
 * until acknowledged, so a device that reads and crashes before acknowledging gets them again; within a
 * conversation they come in seq order (deliveries are written under the conversation's row lock).
 */
export async function readInbox(
  { db }: Pick<MessagingDeps, 'db'>,
  device: DeviceRef,
  query: SyncQuery,
): Promise<{ entries: SyncEntry[]; cursor: string; more: boolean }> {
  const rows = await db.query<EntryRow & { id: string; conversation_id: string }>(
    `SELECT d.id, d.conversation_id, ${ENTRY_COLUMNS}
       FROM deliveries d JOIN messages m ON m.conversation_id = d.conversation_id AND m.seq = d.seq
      WHERE d.user_id = $1::uuid AND d.device_id = $2::int AND d.acked_at IS NULL AND d.id > $3::bigint
      ORDER BY d.id LIMIT $4::int`,
    [device.userId, String(device.deviceId), query.cursor ?? '0', String(query.limit + 1)],
  );
  const page = rows.slice(0, query.limit);
  return {
    entries: page.map((row) => ({ conversationId: row.conversation_id, entry: toEntry(row) })),
    cursor: page.at(-1)?.id ?? query.cursor ?? '0',
    more: rows.length > query.limit,
  };
}

/** A message whose delivery a device acknowledged: its sender learns it was delivered. */
export interface Acknowledged {
  readonly conversationId: string;
  readonly seq: number;
  readonly senderId: string | null;
  readonly type: 'system' | 'message';
}

/**
 * Marks the device's deliveries acknowledged and drops their ciphertext (the device has it; a ratchet
 * message cannot be decrypted twice). Deliveries that are not the caller device's, or already
 * acknowledged, are left alone and not reported. One statement.
 */
export async function acknowledge(
  { db }: Pick<MessagingDeps, 'db'>,
  device: DeviceRef,
  deliveries: readonly DeliveryRef[],
): Promise<Acknowledged[]> {
  const rows = await db.query<{ conversation_id: string; seq: string; sender_id: string | null; type: string }>(
    `WITH acked AS (
       UPDATE deliveries d SET acked_at = now(), envelope_type = NULL, ciphertext = NULL
         FROM jsonb_to_recordset($3::jsonb) AS r("conversationId" uuid, seq bigint)
        WHERE d.user_id = $1::uuid AND d.device_id = $2::int AND d.acked_at IS NULL
          AND d.conversation_id = r."conversationId" AND d.seq = r.seq
       RETURNING d.conversation_id, d.seq)
     SELECT a.conversation_id, a.seq, m.sender_id, m.type
       FROM acked a JOIN messages m ON m.conversation_id = a.conversation_id AND m.seq = a.seq`,
    [device.userId, String(device.deviceId), JSON.stringify(deliveries)],
  );
  return rows.map((row) => ({
    conversationId: row.conversation_id,
    seq: Number(row.seq),
    senderId: row.sender_id,
    type: row.type === 'system' ? 'system' : 'message',
  }));
}
