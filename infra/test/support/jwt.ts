import { createHmac } from 'node:crypto';

/**
 * Hand-made JWTs for attack tests (no JWT library, so the tests do not share the server's blind spots):
 * any key, any claims, any header.
 */
const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function forgeToken(
  key: string,
  claims: { sub: string; sid: string; iss?: string; aud?: string; iat?: number; exp?: number },
  header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' },
): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    sub: claims.sub,
    sid: claims.sid,
    iss: claims.iss ?? 'ciphertalk',
    aud: claims.aud ?? 'ciphertalk-api',
    iat: claims.iat ?? now,
    exp: claims.exp ?? now + 600,
  };
  const signingInput = `${part(header)}.${part(payload)}`;
  const signature = createHmac('sha256', key).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

/** An unsigned token (`alg: none`). */
export function unsignedToken(payload: Record<string, unknown>): string {
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}
