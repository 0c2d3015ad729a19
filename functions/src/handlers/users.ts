import { UserSearchQuery, type UserSearchResponse } from '@ciphertalk/shared/protocol';
import { accountDeps } from '#adapters/deps.ts';
import { searchUsers } from '#domain/users.ts';
import { httpHandler, json } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';

/** `GET /users?q=`: the user directory, behind the JWT authorizer. */
export const handler = httpHandler({ query: UserSearchQuery }, async (request) => {
  const users = await searchUsers(await accountDeps(), principalOf(request.event), request.query);
  return json(200, { users } satisfies UserSearchResponse);
});
