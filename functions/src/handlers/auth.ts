import { ErrorCode, type PasswordResetAccepted, type SessionResponse, type User } from '@ciphertalk/shared/protocol';
import { accountDeps, passwordResetDeps } from '#adapters/deps.ts';
import { config } from '#config';
import { login, logout, logoutAll, refresh, register } from '#domain/accounts.ts';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '#domain/errors.ts';
import { confirmPasswordReset, requestPasswordReset } from '#domain/password-reset.ts';
import type { IssuedTokens } from '#domain/sessions.ts';
import { issueWsTicket } from '#domain/ws-tickets.ts';
import { clearedRefreshCookie, REFRESH_COOKIE, readCookie, refreshCookie } from '#lib/cookies.ts';
import { type HttpRequest, json, route } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';
import { requestMeta } from '#lib/request-meta.ts';
import { routes } from '#lib/router.ts';

/** `/auth/*`: register, login, refresh (cookie), logout, logout-all, password reset, WebSocket tickets. */
const cookiePath = config.sessions.refreshCookiePath;

function sessionAnswer(status: number, user: User, tokens: IssuedTokens) {
  const body: SessionResponse = {
    accessToken: tokens.accessToken,
    tokenType: 'Bearer',
    expiresIn: tokens.expiresIn,
    user,
  };
  return json(status, body, {
    cookies: [refreshCookie(tokens.refreshToken, config.sessions.refreshTokenTtlSeconds, cookiePath)],
  });
}

/** Without a sender address (`ciphertalk:mailFrom` unset) the deployment has password resets switched off. */
async function resetDeps() {
  const deps = await passwordResetDeps();
  if (!deps) throw new NotFoundError('Password reset is switched off on this deployment (no mail sender configured)');
  return deps;
}

/** The cookie is SameSite=Strict already; a browser request from a foreign origin is refused outright too. */
function checkOrigin(request: HttpRequest<unknown, unknown, unknown>): void {
  const origin = request.headers.origin;
  if (origin !== undefined && !config.allowedOrigins.includes(origin)) throw new ForbiddenError('Origin not allowed');
}

export const handler = routes({
  'POST /auth/register': route('POST /auth/register', async (request) => {
    const { user, tokens } = await register(await accountDeps(), request.body, requestMeta(request));
    return sessionAnswer(201, user, tokens);
  }),

  'POST /auth/login': route('POST /auth/login', async (request) => {
    const { user, tokens } = await login(await accountDeps(), request.body, requestMeta(request));
    return sessionAnswer(200, user, tokens);
  }),

  'POST /auth/refresh': route('POST /auth/refresh', async (request) => {
    checkOrigin(request);
    const token = readCookie(request.headers, REFRESH_COOKIE);
    if (!token) throw new UnauthorizedError('No refresh token');
    const result = await refresh(await accountDeps(), token, requestMeta(request));
    if (!result) {
      const error = new UnauthorizedError('The session has ended; log in again', ErrorCode.Unauthorized);
      return json(
        error.status,
        { error: { code: error.code, message: error.message } },
        { cookies: [clearedRefreshCookie(cookiePath)] },
      );
    }
    return sessionAnswer(200, result.user, result.tokens);
  }),

  'POST /auth/logout': route('POST /auth/logout', async (request) => {
    await logout(await accountDeps(), principalOf(request.event), requestMeta(request));
    return json(204, undefined, { cookies: [clearedRefreshCookie(cookiePath)] });
  }),

  'POST /auth/logout-all': route('POST /auth/logout-all', async (request) => {
    const revokedSessions = await logoutAll(await accountDeps(), principalOf(request.event), requestMeta(request));
    return json(200, { revokedSessions }, { cookies: [clearedRefreshCookie(cookiePath)] });
  }),

  'POST /auth/password-reset': route('POST /auth/password-reset', async (request) => {
    await requestPasswordReset(await resetDeps(), request.body.email, requestMeta(request));
    const body: PasswordResetAccepted = {
      message: 'If an account exists for this email, a reset link is on its way.',
    };
    return json(202, body);
  }),

  'POST /auth/password-reset/confirm': route('POST /auth/password-reset/confirm', async (request) => {
    await confirmPasswordReset(await resetDeps(), request.body, requestMeta(request));
    return json(204, undefined, { cookies: [clearedRefreshCookie(cookiePath)] });
  }),

  'POST /auth/ws-ticket': route('POST /auth/ws-ticket', async (request) =>
    json(200, await issueWsTicket(await accountDeps(), principalOf(request.event))),
  ),
});
