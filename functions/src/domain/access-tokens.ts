import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { Clock } from '#ports/clock.ts';

/**
 * Access tokens: short-lived JWTs, HS256 with one server-side key (the REST functions both sign and verify,
 * so nothing gains from a public key). Verification accepts HS256 only (no `none`, no RS/ES confusion) and
 * checks issuer, audience, expiry and issue time. The session the token names is checked separately
 * (see `authenticate`), so logout, logout-all and device revocation take effect at once.
 */
export const ACCESS_TOKEN_ALG = 'HS256';

export interface AccessTokenClaims {
  readonly userId: string;
  readonly sessionId: string;
}

export interface AccessTokenOptions {
  readonly key: Uint8Array;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly clock: Clock;
}

const Payload = z.object({ sub: z.uuid(), sid: z.uuid(), iat: z.number(), exp: z.number() });

export class InvalidAccessToken extends Error {
  override readonly name = 'InvalidAccessToken';
}

export class AccessTokens {
  constructor(private readonly options: AccessTokenOptions) {
    if (options.key.length < 32) throw new Error('the JWT key must be at least 32 bytes');
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  async sign(claims: AccessTokenClaims): Promise<string> {
    const now = Math.floor(this.options.clock().getTime() / 1000);
    return new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + this.options.ttlSeconds)
      .sign(this.options.key);
  }

  /** The token's claims, or InvalidAccessToken for anything else (bad alg, signature, iss, aud, exp, iat). */
  async verify(token: string): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.options.key, {
        algorithms: [ACCESS_TOKEN_ALG],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'sid', 'iat', 'exp'],
        currentDate: this.options.clock(),
        // A token may not claim to be issued in the future (beyond a small clock skew) nor live longer than issued.
        maxTokenAge: this.options.ttlSeconds + 5,
        clockTolerance: 5,
      });
      const parsed = Payload.safeParse(payload);
      if (!parsed.success) throw new InvalidAccessToken('unexpected claims');
      const now = this.options.clock().getTime() / 1000;
      if (parsed.data.iat > now + 5) throw new InvalidAccessToken('issued in the future');
      if (parsed.data.exp - parsed.data.iat > this.options.ttlSeconds)
        throw new InvalidAccessToken('lifetime too long');
      return { userId: parsed.data.sub, sessionId: parsed.data.sid };
    } catch (error) {
      if (error instanceof InvalidAccessToken) throw error;
      if (error instanceof joseErrors.JOSEError) throw new InvalidAccessToken(error.code, { cause: error });
      throw new InvalidAccessToken('unreadable token', { cause: error });
    }
  }
}
