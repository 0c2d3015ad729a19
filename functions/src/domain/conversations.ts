import {
  type AddMembersRequest,
  type Conversation,
  type ConversationMember,
  type CreateConversationRequest,
  ErrorCode,
  MAX_GROUP_MEMBERS,
  type MemberRole,
  type SystemEvent,
  type TimelineEntry,
  type UpdateConversationRequest,
} from '@ciphertalk/shared/protocol';
import type { Db } from '#ports/db.ts';
import { AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.ts';
import { enforce, type RateLimitDeps } from './rate-limits.ts';
import type { Principal } from './sessions.ts';

/** New system events of a conversation, stored with one delivery per device of `userIds`, to publish. */
export interface PublishedEvents {
  readonly conversationId: string;
  readonly entries: readonly TimelineEntry[];
  /** The members after the change, and whoever it removed. */
  readonly userIds: readonly string[];
}

export interface ConversationDeps {
  readonly db: Db;
  /** Group creation and changes are rate-limited per user. */
  readonly limits: RateLimitDeps;
  /** Called after a change committed, with its system events (live delivery; best effort). */
  readonly publish?: (events: PublishedEvents) => Promise<void>;
}

export class UnknownUserError extends AppError {
  override readonly name = 'UnknownUserError';
  constructor() {
    super(400, ErrorCode.UnknownUser, 'A user id names no account');
  }
}

/** A conversation that does not exist and one the caller is not a member of get this same answer. */
const notFound = () => new NotFoundError('No such conversation');

interface ConversationRow extends Record<string, unknown> {
  id: string;
  kind: 'direct' | 'group';
  name: string | null;
  avatar: string | null;
  created_by: string;
  created_at: Date;
  last_activity_at: Date;
  next_seq: string;
  role: MemberRole;
  last_read_seq: string;
}

interface MemberRow extends Record<string, unknown> {
  conversation_id: string;
  user_id: string;
  display_name: string;
  role: MemberRole;
  joined_at: Date;
  last_read_seq: string;
}

const CONVERSATION_COLUMNS = `c.id, c.kind, c.name, c.avatar, c.created_by, c.created_at, c.last_activity_at,
  c.next_seq, m.role, m.last_read_seq`;

/**
 * Takes the conversation's next seq: one UPDATE ... RETURNING, which holds the row lock until the
 * transaction ends, so seqs are gap-free and in commit order.
 */
async function takeSeq(tx: Db, conversationId: string): Promise<{ seq: string; created_at: Date }> {
  const [row] = await tx.query<{ seq: string; created_at: Date }>(
    `UPDATE conversations SET next_seq = next_seq + 1, last_activity_at = now()
      WHERE id = $1::uuid RETURNING next_seq - 1 AS seq, last_activity_at AS created_at`,
    [conversationId],
  );
  if (!row) throw notFound();
  return row;
}

async function markOwnRead(tx: Db, conversationId: string, userId: string, seq: string): Promise<void> {
  await tx.query(
    `UPDATE conversation_members SET last_read_seq = GREATEST(last_read_seq, $3::bigint)
      WHERE conversation_id = $1::uuid AND user_id = $2::uuid`,
    [conversationId, userId, seq],
  );
}

/** Appends a system event at the conversation's next seq, in this transaction, and notes it in `log`. */
async function appendEvent(tx: Db, conversationId: string, event: SystemEvent, log: TimelineEntry[]): Promise<number> {
  const row = await takeSeq(tx, conversationId);
  log.push({
    seq: Number(row.seq),
    type: 'system',
    senderId: event.actorId,
    createdAt: row.created_at.toISOString(),
    event,
  });
  await tx.query(
    `INSERT INTO messages (conversation_id, seq, type, sender_id, payload)
     VALUES ($1::uuid, $2::bigint, 'system', $3::uuid, $4::jsonb)`,
    [conversationId, row.seq, event.actorId, JSON.stringify(event)],
  );
  // The actor has seen what they did.
  if (event.actorId) await markOwnRead(tx, conversationId, event.actorId, row.seq);
  return Number(row.seq);
}

/**
 * Writes one delivery of each logged event to every live device of the members (as they are now) and of
 * `alsoUserIds` (a removed member learns of the removal). Returns who those users are.
 */
async function deliverEvents(
  tx: Db,
  conversationId: string,
  log: readonly TimelineEntry[],
  alsoUserIds: readonly string[] = [],
): Promise<PublishedEvents> {
  const rows = await tx.query<{ user_id: string }>(
    `WITH recipients AS (
       SELECT user_id FROM conversation_members WHERE conversation_id = $1::uuid
       UNION SELECT value::uuid FROM jsonb_array_elements_text($3::jsonb)
     ), inserted AS (
       INSERT INTO deliveries (user_id, device_id, conversation_id, seq)
       SELECT d.user_id, d.device_id, $1::uuid, s.value::bigint
         FROM recipients r JOIN devices d ON d.user_id = r.user_id AND d.revoked_at IS NULL
        CROSS JOIN jsonb_array_elements_text($2::jsonb) s
        ORDER BY s.value::bigint
     )
     SELECT user_id FROM recipients`,
    [conversationId, JSON.stringify(log.map((entry) => String(entry.seq))), JSON.stringify(alsoUserIds)],
  );
  return { conversationId, entries: log, userIds: rows.map((row) => row.user_id) };
}

async function addMemberRow(tx: Db, conversationId: string, userId: string, role: MemberRole, readSeq: number) {
  await tx.query(
    `INSERT INTO conversation_members (conversation_id, user_id, role, last_read_seq)
     VALUES ($1::uuid, $2::uuid, $3, $4::bigint)`,
    [conversationId, userId, role, String(readSeq)],
  );
}

async function checkUsersExist(tx: Db, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  const placeholders = userIds.map((_, i) => `$${i + 1}::uuid`).join(', ');
  const [row] = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE id IN (${placeholders})`, userIds);
  if (Number(row?.n) !== userIds.length) throw new UnknownUserError();
}

/** The caller's membership, with the conversation row locked: every change is serialised per conversation. */
async function lockAsMember(tx: Db, principal: Principal, conversationId: string) {
  const [row] = await tx.query<{ kind: 'direct' | 'group'; role: MemberRole | null }>(
    `SELECT c.kind, m.role FROM conversations c
       LEFT JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = $2::uuid
      WHERE c.id = $1::uuid FOR UPDATE OF c`,
    [conversationId, principal.userId],
  );
  if (!row?.role) throw notFound();
  return { kind: row.kind, role: row.role };
}

function requireGroup(kind: string): void {
  if (kind !== 'group') throw new ForbiddenError('A direct conversation has fixed members and no name');
}

async function memberRole(tx: Db, conversationId: string, userId: string): Promise<MemberRole | null> {
  const [row] = await tx.query<{ role: MemberRole }>(
    'SELECT role FROM conversation_members WHERE conversation_id = $1::uuid AND user_id = $2::uuid',
    [conversationId, userId],
  );
  return row?.role ?? null;
}

export async function loadConversation(db: Db, principal: Principal, conversationId: string): Promise<Conversation> {
  const [row] = await db.query<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations c
       JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = $2::uuid
      WHERE c.id = $1::uuid`,
    [conversationId, principal.userId],
  );
  if (!row) throw notFound();
  const members = await db.query<MemberRow>(
    `SELECT m.conversation_id, m.user_id, u.display_name, m.role, m.joined_at, m.last_read_seq
       FROM conversation_members m JOIN users u ON u.id = m.user_id
      WHERE m.conversation_id = $1::uuid ORDER BY m.joined_at, m.user_id`,
    [conversationId],
  );
  return toConversation(row, members.map(toMember));
}

/** The caller's conversations, most recently active first, each with its members and unread count. */
export async function listConversations(
  deps: Pick<ConversationDeps, 'db'>,
  principal: Principal,
): Promise<Conversation[]> {
  const rows = await deps.db.query<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversation_members m
       JOIN conversations c ON c.id = m.conversation_id
      WHERE m.user_id = $1::uuid ORDER BY c.last_activity_at DESC, c.id`,
    [principal.userId],
  );
  const members = await deps.db.query<MemberRow>(
    `SELECT o.conversation_id, o.user_id, u.display_name, o.role, o.joined_at, o.last_read_seq
       FROM conversation_members m
       JOIN conversation_members o ON o.conversation_id = m.conversation_id
       JOIN users u ON u.id = o.user_id
      WHERE m.user_id = $1::uuid ORDER BY o.joined_at, o.user_id`,
    [principal.userId],
  );
  const byConversation = new Map<string, ConversationMember[]>();
  for (const member of members) {
    const list = byConversation.get(member.conversation_id) ?? [];
    list.push(toMember(member));
    byConversation.set(member.conversation_id, list);
  }
  return rows.map((row) => toConversation(row, byConversation.get(row.id) ?? []));
}

export const getConversation = (deps: Pick<ConversationDeps, 'db'>, principal: Principal, conversationId: string) =>
  loadConversation(deps.db, principal, conversationId);

/**
 * Creates a conversation. A direct one is unique per pair (`direct_key`, the sorted pair): an existing
 * one is returned (`created: false`); two concurrent creates meet at the unique index and both answer it.
 */
export async function createConversation(
  deps: ConversationDeps,
  principal: Principal,
  request: CreateConversationRequest,
): Promise<{ conversation: Conversation; created: boolean }> {
  const me = principal.userId;
  const log: TimelineEntry[] = [];
  if (request.kind === 'group') await enforce(deps.limits, 'groupCreationsPerUser', me);
  const id = await deps.db.transaction(async (tx) => {
    if (request.kind === 'direct') {
      const other = request.userId.toLowerCase();
      if (other === me) throw new ValidationError('A direct conversation is with another user');
      await checkUsersExist(tx, [other]);
      const directKey = [me, other].sort().join(':');
      const [inserted] = await tx.query<{ id: string }>(
        `INSERT INTO conversations (kind, direct_key, created_by) VALUES ('direct', $1, $2::uuid)
         ON CONFLICT (direct_key) DO NOTHING RETURNING id`,
        [directKey, me],
      );
      if (!inserted) {
        const [existing] = await tx.query<{ id: string }>('SELECT id FROM conversations WHERE direct_key = $1', [
          directKey,
        ]);
        if (!existing) throw new ConflictError('The conversation is being created; try again');
        return { id: existing.id, created: false, events: null };
      }
      const seq = await appendEvent(tx, inserted.id, { event: 'created', actorId: me, memberIds: [me, other] }, log);
      await addMemberRow(tx, inserted.id, me, 'member', seq);
      await addMemberRow(tx, inserted.id, other, 'member', seq);
      return { id: inserted.id, created: true, events: await deliverEvents(tx, inserted.id, log) };
    }
    const others = request.memberIds.map((userId) => userId.toLowerCase());
    if (others.includes(me)) throw new ValidationError('memberIds names the other members, not the caller');
    await checkUsersExist(tx, others);
    const [inserted] = await tx.query<{ id: string }>(
      `INSERT INTO conversations (kind, name, avatar, created_by) VALUES ('group', $1, $2, $3::uuid) RETURNING id`,
      [request.name, request.avatar ?? null, me],
    );
    if (!inserted) throw new Error('INSERT ... RETURNING returned no row');
    const seq = await appendEvent(tx, inserted.id, { event: 'created', actorId: me, memberIds: [me, ...others] }, log);
    await addMemberRow(tx, inserted.id, me, 'owner', seq);
    for (const userId of others) await addMemberRow(tx, inserted.id, userId, 'member', seq);
    return { id: inserted.id, created: true, events: await deliverEvents(tx, inserted.id, log) };
  });
  if (id.events) await deps.publish?.(id.events);
  return { conversation: await loadConversation(deps.db, principal, id.id), created: id.created };
}

/** Renames a group or changes its avatar: owner and admins. */
export async function updateConversation(
  deps: ConversationDeps,
  principal: Principal,
  conversationId: string,
  request: UpdateConversationRequest,
): Promise<Conversation> {
  const log: TimelineEntry[] = [];
  await enforce(deps.limits, 'groupChangesPerUser', principal.userId);
  const events = await deps.db.transaction(async (tx) => {
    const { kind, role } = await lockAsMember(tx, principal, conversationId);
    requireGroup(kind);
    if (role === 'member') throw new ForbiddenError('Only the owner and admins may change the group');
    await tx.query(
      `UPDATE conversations SET name = COALESCE($2, name),
              avatar = CASE WHEN $3::boolean THEN $4 ELSE avatar END
        WHERE id = $1::uuid`,
      [conversationId, request.name ?? null, request.avatar !== undefined, request.avatar ?? null],
    );
    await appendEvent(
      tx,
      conversationId,
      {
        event: 'updated',
        actorId: principal.userId,
        ...(request.name !== undefined ? { name: request.name } : {}),
        ...(request.avatar !== undefined ? { avatar: request.avatar } : {}),
      },
      log,
    );
    return deliverEvents(tx, conversationId, log);
  });
  await deps.publish?.(events);
  return loadConversation(deps.db, principal, conversationId);
}

/** Adds users to a group: owner and admins; someone already a member is a 409 and nothing is added. */
export async function addMembers(
  deps: ConversationDeps,
  principal: Principal,
  conversationId: string,
  request: AddMembersRequest,
): Promise<Conversation> {
  const userIds = request.userIds.map((userId) => userId.toLowerCase());
  const log: TimelineEntry[] = [];
  await enforce(deps.limits, 'groupChangesPerUser', principal.userId);
  const events = await deps.db.transaction(async (tx) => {
    const { kind, role } = await lockAsMember(tx, principal, conversationId);
    requireGroup(kind);
    if (role === 'member') throw new ForbiddenError('Only the owner and admins may add members');
    await checkUsersExist(tx, userIds);
    const placeholders = userIds.map((_, i) => `$${i + 2}::uuid`).join(', ');
    const [counts] = await tx.query<{ already: string; total: string }>(
      `SELECT count(*) FILTER (WHERE user_id IN (${placeholders})) AS already, count(*) AS total
         FROM conversation_members WHERE conversation_id = $1::uuid`,
      [conversationId, ...userIds],
    );
    if (Number(counts?.already) > 0) throw new ConflictError('A user is already a member');
    if (Number(counts?.total) + userIds.length > MAX_GROUP_MEMBERS) {
      throw new ConflictError(`A group has at most ${MAX_GROUP_MEMBERS} members`);
    }
    const event = { event: 'members_added', actorId: principal.userId, userIds } as const;
    const seq = await appendEvent(tx, conversationId, event, log);
    for (const userId of userIds) await addMemberRow(tx, conversationId, userId, 'member', seq);
    return deliverEvents(tx, conversationId, log);
  });
  await deps.publish?.(events);
  return loadConversation(deps.db, principal, conversationId);
}

const rank: Record<MemberRole, number> = { owner: 2, admin: 1, member: 0 };

/**
 * Removes a member (owner: anyone; admins: members only) or, for oneself, leaves. When the last owner
 * leaves, the longest-standing admin, else the longest-standing member, becomes owner (an event too).
 */
export async function removeMember(
  deps: ConversationDeps,
  principal: Principal,
  conversationId: string,
  userId: string,
): Promise<void> {
  const target = userId.toLowerCase();
  const me = principal.userId;
  const log: TimelineEntry[] = [];
  await enforce(deps.limits, 'groupChangesPerUser', principal.userId);
  const events = await deps.db.transaction(async (tx) => {
    const { kind, role } = await lockAsMember(tx, principal, conversationId);
    requireGroup(kind);
    const leaving = target === me;
    const targetRole = leaving ? role : await memberRole(tx, conversationId, target);
    if (!targetRole) throw new NotFoundError('No such member');
    if (!leaving && (role === 'member' || rank[targetRole] >= rank[role]) && role !== 'owner') {
      throw new ForbiddenError('Only the owner, or an admin for members, may remove someone');
    }
    await tx.query('DELETE FROM conversation_members WHERE conversation_id = $1::uuid AND user_id = $2::uuid', [
      conversationId,
      target,
    ]);
    await appendEvent(
      tx,
      conversationId,
      leaving
        ? { event: 'member_left', actorId: me, userId: me }
        : { event: 'member_removed', actorId: me, userId: target },
      log,
    );
    if (targetRole === 'owner') await promoteIfOwnerless(tx, conversationId, log);
    return deliverEvents(tx, conversationId, log, [target]);
  });
  await deps.publish?.(events);
}

async function promoteIfOwnerless(tx: Db, conversationId: string, log: TimelineEntry[]): Promise<void> {
  const [successor] = await tx.query<{ user_id: string; owners: string }>(
    `SELECT user_id,
            (SELECT count(*) FROM conversation_members WHERE conversation_id = $1::uuid AND role = 'owner') AS owners
       FROM conversation_members WHERE conversation_id = $1::uuid
      ORDER BY (role = 'admin') DESC, joined_at, user_id LIMIT 1`,
    [conversationId],
  );
  if (!successor || Number(successor.owners) > 0) return;
  await tx.query(
    `UPDATE conversation_members SET role = 'owner' WHERE conversation_id = $1::uuid AND user_id = $2::uuid`,
    [conversationId, successor.user_id],
  );
  const event = { event: 'role_changed', actorId: null, userId: successor.user_id, role: 'owner' } as const;
  await appendEvent(tx, conversationId, event, log);
}

/** Changes a member's role: owner only. The last owner cannot step down (leaving hands the group on). */
export async function changeRole(
  deps: ConversationDeps,
  principal: Principal,
  conversationId: string,
  userId: string,
  newRole: MemberRole,
): Promise<Conversation> {
  const target = userId.toLowerCase();
  const log: TimelineEntry[] = [];
  await enforce(deps.limits, 'groupChangesPerUser', principal.userId);
  const events = await deps.db.transaction(async (tx) => {
    const { kind, role } = await lockAsMember(tx, principal, conversationId);
    requireGroup(kind);
    if (role !== 'owner') throw new ForbiddenError('Only the owner may change roles');
    const current = await memberRole(tx, conversationId, target);
    if (!current) throw new NotFoundError('No such member');
    if (current === newRole) return null;
    if (current === 'owner') {
      const [row] = await tx.query<{ owners: string }>(
        `SELECT count(*) AS owners FROM conversation_members WHERE conversation_id = $1::uuid AND role = 'owner'`,
        [conversationId],
      );
      if (Number(row?.owners) <= 1) throw new ConflictError('A group keeps at least one owner');
    }
    await tx.query(
      `UPDATE conversation_members SET role = $3 WHERE conversation_id = $1::uuid AND user_id = $2::uuid`,
      [conversationId, target, newRole],
    );
    const event = { event: 'role_changed', actorId: principal.userId, userId: target, role: newRole } as const;
    await appendEvent(tx, conversationId, event, log);
    return deliverEvents(tx, conversationId, log);
  });
  if (events) await deps.publish?.(events);
  return loadConversation(deps.db, principal, conversationId);
}

function toMember(row: MemberRow): ConversationMember {
  return {
    userId: row.user_id,
    displayName: row.display_name,
    role: row.role,
    joinedAt: row.joined_at.toISOString(),
    lastReadSeq: Number(row.last_read_seq),
  };
}

function toConversation(row: ConversationRow, members: ConversationMember[]): Conversation {
  const lastSeq = Number(row.next_seq) - 1;
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    avatar: row.avatar,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    lastActivityAt: row.last_activity_at.toISOString(),
    lastSeq,
    unreadCount: Math.max(0, lastSeq - Number(row.last_read_seq)),
    role: row.role,
    members,
  };
}

/** Moves the caller's read marker forward to `seq` (never back, never past the latest seq). */
export async function markRead(
  deps: Pick<ConversationDeps, 'db'>,
  principal: Principal,
  conversationId: string,
  seq: number,
): Promise<{ lastReadSeq: number; unreadCount: number }> {
  const [row] = await deps.db.query<{ last_read_seq: string; next_seq: string }>(
    `UPDATE conversation_members m
        SET last_read_seq = GREATEST(m.last_read_seq, LEAST($3::bigint, c.next_seq - 1))
       FROM conversations c
      WHERE c.id = m.conversation_id AND m.conversation_id = $1::uuid AND m.user_id = $2::uuid
      RETURNING m.last_read_seq, c.next_seq`,
    [conversationId, principal.userId, String(seq)],
  );
  if (!row) throw notFound();
  const lastReadSeq = Number(row.last_read_seq);
  return { lastReadSeq, unreadCount: Math.max(0, Number(row.next_seq) - 1 - lastReadSeq) };
}
