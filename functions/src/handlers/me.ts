import type { AuditResponse } from '@ciphertalk/shared/protocol';
import { bestEffortRealtime } from '#adapters/best-effort.ts';
import { auditLog } from '#adapters/clients/audit-log.ts';
import { db } from '#adapters/clients/db.ts';
import { passwords } from '#adapters/clients/passwords.ts';
import { rateLimiter } from '#adapters/clients/rate-limiter.ts';
import { realtime } from '#adapters/clients/realtime.ts';
import { config } from '#config';
import {
  type AccountChangeDeps,
  changePassword,
  listSessions,
  me,
  revokeOwnSession,
  updateMe,
} from '#domain/accounts.ts';
import { json, route } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';
import { requestMeta } from '#lib/request-meta.ts';
import { routes } from '#lib/router.ts';
import { systemClock } from '#ports/clock.ts';

/** Account changes within a session: no token is signed here, so no JWT key. */
const accountDeps = async (): Promise<AccountChangeDeps> => ({
  db: db(),
  clock: systemClock,
  passwords: passwords(),
  audit: auditLog(),
  limiter: rateLimiter(),
  limitScale: config.rateLimitMultiplier,
  realtime: bestEffortRealtime(realtime()),
});

/** `/me*`: the caller's account and audit log. Every route sits behind the JWT authorizer. */
export const handler = routes({
  'GET /me': route('GET /me', async (request) => json(200, await me(await accountDeps(), principalOf(request.event)))),

  'PATCH /me': route('PATCH /me', async (request) =>
    json(200, { user: await updateMe(await accountDeps(), principalOf(request.event), request.body) }),
  ),

  'POST /me/password': route('POST /me/password', async (request) => {
    const meta = requestMeta(request);
    return json(200, await changePassword(await accountDeps(), principalOf(request.event), request.body, meta));
  }),

  'GET /me/audit': route('GET /me/audit', async (request) => {
    const { userId } = principalOf(request.event);
    const deps = await accountDeps();
    const page = await deps.audit.list(userId, { ...request.query, now: deps.clock() });
    const body: AuditResponse = {
      events: page.events.map((event) => ({
        type: event.type,
        at: event.at.toISOString(),
        sourceIp: event.sourceIp,
        userAgent: event.userAgent,
        sessionId: event.sessionId ?? null,
        deviceId: event.deviceId ?? null,
        ...(event.details ? { details: { ...event.details } } : {}),
      })),
      nextCursor: page.nextCursor,
    };
    return json(200, body);
  }),

  'GET /me/sessions': route('GET /me/sessions', async (request) =>
    json(200, { sessions: await listSessions(await accountDeps(), principalOf(request.event)) }),
  ),

  'DELETE /me/sessions/{sessionId}': route('DELETE /me/sessions/{sessionId}', async (request) => {
    await revokeOwnSession(
      await accountDeps(),
      principalOf(request.event),
      request.path.sessionId,
      requestMeta(request),
    );
    return json(204, undefined);
  }),
});
