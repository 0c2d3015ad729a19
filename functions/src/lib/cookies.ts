/**
 * The refresh cookie: HttpOnly (no script reads it), Secure (browsers accept it on http://localhost too),
 * SameSite=Strict (never sent on cross-site requests), and scoped to the `/auth` routes, so no other
 * request carries it.
 */
export const REFRESH_COOKIE = 'ct_refresh';

export function refreshCookie(token: string, maxAgeSeconds: number, path: string): string {
  return `${REFRESH_COOKIE}=${token}; Max-Age=${maxAgeSeconds}; Path=${path}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedRefreshCookie(path: string): string {
  return `${REFRESH_COOKIE}=; Max-Age=0; Path=${path}; HttpOnly; Secure; SameSite=Strict`;
}

/** A cookie's value from the Cookie header (lower-cased header names), or null. */
export function readCookie(headers: Readonly<Record<string, string>>, name: string): string | null {
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}
