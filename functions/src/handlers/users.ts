import type { UserProfileResponse, UserSearchResponse } from '@ciphertalk/shared/protocol';
import { accountDeps } from '#adapters/deps.ts';
import { searchUsers, userProfile } from '#domain/users.ts';
import { json, route } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';
import { routes } from '#lib/router.ts';

/** `GET /users?query=` (the directory) and `GET /users/{userId}` (a profile), behind the JWT authorizer. */
export const handler = routes({
  'GET /users': route('GET /users', async (request) => {
    const users = await searchUsers(await accountDeps(), principalOf(request.event), request.query);
    return json(200, { users } satisfies UserSearchResponse);
  }),

  'GET /users/{userId}': route('GET /users/{userId}', async (request) => {
    principalOf(request.event);
    const user = await userProfile(await accountDeps(), request.path.userId);
    return json(200, { user } satisfies UserProfileResponse);
  }),
});
