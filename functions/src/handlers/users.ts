import type { UserProfileResponse, UserSearchResponse } from '@ciphertalk/shared/protocol';
import { db } from '#adapters/clients/db.ts';
import { rateLimiter } from '#adapters/clients/rate-limiter.ts';
import { config } from '#config';
import { searchUsers, userProfile } from '#domain/users.ts';
import { json, route } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';
import { routes } from '#lib/router.ts';
import { systemClock } from '#ports/clock.ts';

/** The directory reads users and counts searches: nothing else. */
const deps = () => ({
  db: db(),
  limiter: rateLimiter(),
  clock: systemClock,
  limitScale: config.rateLimitMultiplier,
});

/** `GET /users?query=` (the directory) and `GET /users/{userId}` (a profile), behind the JWT authorizer. */
export const handler = routes({
  'GET /users': route('GET /users', async (request) => {
    const users = await searchUsers(deps(), principalOf(request.event), request.query);
    return json(200, { users } satisfies UserSearchResponse);
  }),

  'GET /users/{userId}': route('GET /users/{userId}', async (request) => {
    principalOf(request.event);
    const user = await userProfile(deps(), request.path.userId);
    return json(200, { user } satisfies UserProfileResponse);
  }),
});
