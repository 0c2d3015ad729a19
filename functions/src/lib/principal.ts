import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { UnauthorizedError } from '#domain/errors.ts';
import type { Principal } from '#domain/sessions.ts';

/** What the authorizer puts in its context: API Gateway passes only strings, numbers and booleans. */
export const AuthorizerContext = z.object({
  userId: z.uuid(),
  sessionId: z.uuid(),
  /** The session's device number, or '' before it registered one. */
  deviceId: z.union([z.literal(''), z.coerce.number().int().positive()]),
});

export function toAuthorizerContext(principal: Principal): Record<string, string | number> {
  return { userId: principal.userId, sessionId: principal.sessionId, deviceId: principal.deviceId ?? '' };
}

/** The caller of an `auth: 'jwt'` route; a route reached without the authorizer's context answers 401. */
export function principalOf(event: APIGatewayProxyEvent): Principal {
  const parsed = AuthorizerContext.safeParse(event.requestContext?.authorizer ?? undefined);
  if (!parsed.success) throw new UnauthorizedError();
  const { userId, sessionId, deviceId } = parsed.data;
  return { userId, sessionId, deviceId: deviceId === '' ? null : deviceId };
}
