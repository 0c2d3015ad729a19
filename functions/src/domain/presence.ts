import { PRESENCE_TTL_SECONDS, type Presence, type PresenceNotice } from '@ciphertalk/shared/protocol';
import { NotFoundError } from './errors.ts';
import { publish } from './fanout.ts';
import type { MessagingDeps, NoticeDeps } from './messages.ts';

/**
 * Presence: online while heartbeats (`presence.heartbeat`, every PRESENCE_HEARTBEAT_SECONDS) keep a Redis key
 * alive, offline when the user's last connection closes or heartbeats stop, and a last-seen time. Visible
 * only to users who share a conversation: the REST read is per conversation and members only, and changes
 * are pushed to the connections of co-members only.
 */
export async function coMembersOf({ db }: Pick<MessagingDeps, 'db'>, userId: string): Promise<string[]> {
  const rows = await db.query<{ user_id: string }>(
    `SELECT DISTINCT o.user_id FROM conversation_members m
       JOIN conversation_members o ON o.conversation_id = m.conversation_id
      WHERE m.user_id = $1::uuid AND o.user_id <> $1::uuid`,
    [userId],
  );
  return rows.map((row) => row.user_id);
}

function notice(userId: string, online: boolean, lastSeenAt: number | null): PresenceNotice {
  return {
    type: 'presence',
    userId,
    status: online ? 'online' : 'offline',
    lastSeenAt: lastSeenAt === null ? null : new Date(lastSeenAt).toISOString(),
  };
}

/** A heartbeat: refreshes the user's presence; when they were offline, tells their co-members. */
export async function heartbeat(deps: NoticeDeps, userId: string, now: Date): Promise<boolean> {
  const cameOnline = await deps.realtime.registry.markOnline(userId, now.getTime(), PRESENCE_TTL_SECONDS);
  if (cameOnline) {
    const frame = notice(userId, true, now.getTime());
    await publish(deps, await coMembersOf(deps, userId), () => frame);
  }
  return cameOnline;
}

/** A connection closed: when it was the user's last, they are offline now and their co-members learn it. */
export async function connectionClosed(deps: NoticeDeps, userId: string, now: Date): Promise<boolean> {
  const live = (await deps.realtime.registry.connectionsOf([userId])).get(userId) ?? [];
  if (live.length > 0) return false;
  await deps.realtime.registry.markOffline(userId, now.getTime());
  const frame = notice(userId, false, now.getTime());
  await publish(deps, await coMembersOf(deps, userId), () => frame);
  return true;
}

/** `GET /conversations/{id}/presence`: the members' presence, for members only (404 otherwise). */
export async function conversationPresence(
  deps: NoticeDeps,
  userId: string,
  conversationId: string,
): Promise<Presence[]> {
  const members = await membersIfMember(deps, userId, conversationId);
  const presence = await deps.realtime.registry.presenceOf(members);
  return members.map((memberId) => {
    const known = presence.get(memberId);
    const { status, lastSeenAt } = notice(memberId, known?.online ?? false, known?.lastSeenAt ?? null);
    return { userId: memberId, status, lastSeenAt };
  });
}

/** The conversation's member ids when `userId` is one of them; the same 404 as an unknown conversation otherwise. */
export async function membersIfMember(
  { db }: Pick<MessagingDeps, 'db'>,
  userId: string,
  conversationId: string,
): Promise<string[]> {
  const rows = await db.query<{ user_id: string }>(
    `SELECT o.user_id FROM conversation_members m
       JOIN conversation_members o ON o.conversation_id = m.conversation_id
      WHERE m.conversation_id = $1::uuid AND m.user_id = $2::uuid ORDER BY o.joined_at, o.user_id`,
    [conversationId, userId],
  );
  if (rows.length === 0) throw new NotFoundError('No such conversation');
  return rows.map((row) => row.user_id);
}
