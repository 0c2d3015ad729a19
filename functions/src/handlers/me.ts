import { ChangePasswordRequest, UpdateMeRequest } from '@ciphertalk/shared/protocol';
import { accountDeps } from '#adapters/deps.ts';
import { changePassword, me, updateMe } from '#domain/accounts.ts';
import { httpHandler, json } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';
import { routes } from '#lib/router.ts';

/** `/me*`: the caller's account. Every route sits behind the JWT authorizer. */
export const handler = routes({
  'GET /me': httpHandler({}, async (request) => json(200, await me(await accountDeps(), principalOf(request.event)))),

  'PATCH /me': httpHandler({ body: UpdateMeRequest }, async (request) =>
    json(200, { user: await updateMe(await accountDeps(), principalOf(request.event), request.body) }),
  ),

  'POST /me/password': httpHandler({ body: ChangePasswordRequest }, async (request) => {
    const result = await changePassword(await accountDeps(), principalOf(request.event), request.body);
    return json(200, result);
  }),
});
