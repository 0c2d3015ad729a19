import { z } from 'zod';
import { text } from './text.ts';

/**
 * Accounts and sessions: REST bodies of `/auth/*` and `/me*`.
 * The refresh token never appears here: it travels only in the `HttpOnly` cookie.
 */
export const PASSWORD_MIN_LENGTH = 12;
/** argon2 hashes anything, but a bound keeps a request from buying minutes of CPU. */
export const PASSWORD_MAX_LENGTH = 256;

export const Email = text()
  .trim()
  .min(3)
  .max(254)
  .pipe(z.email({ message: 'Invalid email address' }));
export const Password = text().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH);
export const DisplayName = text().trim().min(1).max(80);
export const UserId = z.uuid();

export const RegisterRequest = z.object({ email: Email, password: Password, displayName: DisplayName });
export type RegisterRequest = z.infer<typeof RegisterRequest>;

/** Login accepts any password length: the policy is enforced when a password is set, not when it is tried. */
export const LoginRequest = z.object({ email: Email, password: text().min(1).max(PASSWORD_MAX_LENGTH) });
export type LoginRequest = z.infer<typeof LoginRequest>;

export const User = z.object({
  id: UserId,
  email: text(),
  displayName: text(),
  createdAt: z.iso.datetime(),
});
export type User = z.infer<typeof User>;

/** Login, register and refresh: the access token in the body, the refresh token in a cookie. */
export const SessionResponse = z.object({
  accessToken: text(),
  tokenType: z.literal('Bearer'),
  /** Seconds until the access token expires. */
  expiresIn: z.number().int().positive(),
  user: User,
});
export type SessionResponse = z.infer<typeof SessionResponse>;

export const MeResponse = z.object({
  user: User,
  session: z.object({ id: z.uuid(), deviceId: z.number().int().positive().nullable() }),
});
export type MeResponse = z.infer<typeof MeResponse>;

export const UserResponse = z.object({ user: User });
export type UserResponse = z.infer<typeof UserResponse>;

export const UpdateMeRequest = z.object({ displayName: DisplayName }).partial().strict();
export type UpdateMeRequest = z.infer<typeof UpdateMeRequest>;

export const ChangePasswordRequest = z.object({
  currentPassword: text().min(1).max(PASSWORD_MAX_LENGTH),
  newPassword: Password,
});
export type ChangePasswordRequest = z.infer<typeof ChangePasswordRequest>;

export const LogoutAllResponse = z.object({ revokedSessions: z.number().int().nonnegative() });
export type LogoutAllResponse = z.infer<typeof LogoutAllResponse>;

/** `POST /auth/password-reset`: always answered 202, whether or not the email has an account. */
export const PasswordResetRequest = z.object({ email: Email });
export type PasswordResetRequest = z.infer<typeof PasswordResetRequest>;

export const PasswordResetAccepted = z.object({ message: text() });
export type PasswordResetAccepted = z.infer<typeof PasswordResetAccepted>;

/** `POST /auth/password-reset/confirm`: the token from the emailed link and the new password. */
export const PasswordResetConfirm = z.object({
  token: z
    .string()
    .min(20)
    .max(100)
    .regex(/^[\w-]+$/),
  newPassword: Password,
});
export type PasswordResetConfirm = z.infer<typeof PasswordResetConfirm>;

/** `POST /auth/ws-ticket`: a single-use ticket for the WebSocket `$connect` (`?ticket=`), valid `expiresIn` seconds. */
export const WsTicketResponse = z.object({ ticket: text(), expiresIn: z.number().int().positive() });
export type WsTicketResponse = z.infer<typeof WsTicketResponse>;

/** The `$connect` query string. */
export const WsConnectQuery = z.object({ ticket: text().regex(/^[\w-]{64}$/) });
export type WsConnectQuery = z.infer<typeof WsConnectQuery>;

/** `GET /me/sessions`: the caller's live logins (one per browser or device). */
export const SessionInfo = z.object({
  id: z.uuid(),
  deviceId: z.number().int().positive().nullable(),
  userAgent: text(),
  sourceIp: text(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime(),
  /** True for the session making the request. */
  current: z.boolean(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;
export const SessionListResponse = z.object({ sessions: z.array(SessionInfo) });
export type SessionListResponse = z.infer<typeof SessionListResponse>;
/** `DELETE /me/sessions/{sessionId}`: ends one of the caller's sessions. */
export const SessionPath = z.object({ sessionId: z.uuid() });
