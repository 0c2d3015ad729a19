import { isIP } from 'node:net';
import { config } from '#config';
import type { RequestMeta } from '#domain/sessions.ts';
import type { HttpRequest } from './http.ts';

/**
 * The client's address for rate limits and the audit log. API Gateway's `sourceIp` is the address that
 * connected to it: behind CloudFront that is a CloudFront edge, shared by many users. Each proxy appends
 * the address it saw to `X-Forwarded-For`, so with `TRUSTED_PROXY_HOPS` = n (1 behind CloudFront) the
 * client is the entry n places before the last; entries further left are the client's own claims and
 * are never used. With 0 (the default, and locally) it is `sourceIp`.
 */
export function clientIp(sourceIp: string, forwardedFor: string | undefined, trustedHops: number): string {
  if (trustedHops === 0 || !forwardedFor) return sourceIp;
  const entries = forwardedFor
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const candidate = entries[entries.length - 1 - trustedHops];
  return candidate && isIP(candidate) ? candidate : sourceIp;
}

export function requestMeta(request: HttpRequest<unknown, unknown, unknown>): RequestMeta {
  return {
    sourceIp: clientIp(request.sourceIp, request.headers['x-forwarded-for'], config.trustedProxyHops),
    userAgent: request.userAgent,
  };
}
