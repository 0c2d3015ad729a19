import { z } from 'zod';
import { UserId } from './auth.ts';
import { text } from './text.ts';

/**
 * `GET /users?query=`: the directory. Matches the start of any word of a display name, or a whole email
 * address; an email is shown only to a caller who typed it in full, so the search cannot harvest addresses.
 */
export const UserSearchQuery = z.object({
  query: text().trim().min(3).max(64),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export type UserSearchQuery = z.infer<typeof UserSearchQuery>;

export const UserSummary = z.object({
  id: UserId,
  displayName: text(),
  /** Present only when the query was this user's full email address. */
  email: text().optional(),
});
export type UserSummary = z.infer<typeof UserSummary>;

export const UserSearchResponse = z.object({ users: z.array(UserSummary) });
export type UserSearchResponse = z.infer<typeof UserSearchResponse>;

/** `GET /users/{userId}`: another user's public profile (what a conversation shows of its members). */
export const UserProfileResponse = z.object({ user: UserSummary.omit({ email: true }) });
export type UserProfileResponse = z.infer<typeof UserProfileResponse>;
