import type { UserSearchQuery, UserSummary } from '@ciphertalk/shared/protocol';
import { type AccountDeps, normalizeEmail } from './accounts.ts';
import { NotFoundError } from './errors.ts';
import { enforce } from './rate-limits.ts';
import type { Principal } from './sessions.ts';

/** `%`, `_` and `\` typed by the user match themselves, not anything. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Searches the directory: display names by the start of any word, emails only whole (case-insensitive).
 * Emails appear only in a whole-email match (the caller already knows it), so a series of searches
 * cannot harvest addresses; searches are rate-limited per user.
 */
export async function searchUsers(
  deps: Pick<AccountDeps, 'db' | 'limiter' | 'clock' | 'limitScale'>,
  principal: Principal,
  query: UserSearchQuery,
): Promise<UserSummary[]> {
  await enforce(deps, 'userSearchPerUser', principal.userId);
  const text = query.query.trim().toLowerCase();
  const email = normalizeEmail(text);
  const prefix = `${escapeLike(text)}%`;
  const rows = await deps.db.query<{ id: string; display_name: string; email_normalized: string }>(
    `SELECT id, display_name, email_normalized FROM users
      WHERE email_normalized = $1
         OR lower(display_name) LIKE $2
         OR lower(display_name) LIKE '% ' || $2
      ORDER BY (email_normalized = $1) DESC, lower(display_name), id
      LIMIT $3`,
    [email, prefix, query.limit],
  );
  return rows.map((row) => ({
    id: row.id,
    displayName: row.display_name,
    ...(row.email_normalized === email ? { email } : {}),
  }));
}

/** Another user's public profile: id and display name, never the email. */
export async function userProfile(
  deps: Pick<AccountDeps, 'db'>,
  userId: string,
): Promise<{ id: string; displayName: string }> {
  const [row] = await deps.db.query<{ id: string; display_name: string }>(
    'SELECT id, display_name FROM users WHERE id = $1',
    [userId],
  );
  if (!row) throw new NotFoundError('No such user');
  return { id: row.id, displayName: row.display_name };
}
