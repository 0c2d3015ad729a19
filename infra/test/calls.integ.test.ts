import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiClient, registered } from './support/api.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/** ICE servers for calls: STUN as configured, TURN with short-lived credentials (TURN REST API, as coturn checks them). */
const TURN_SECRET = 'a-turn-shared-secret-for-tests';
const fx = stackOnFreshSchema({
  env: {
    RATE_LIMIT_MULTIPLIER: '100',
    STUN_URLS: 'stun:stun.example.test:3478',
    TURN_URLS: 'turn:turn.example.test:3478?transport=udp, turns:turn.example.test:5349',
    TURN_SECRET,
    TURN_CREDENTIAL_TTL_SECONDS: '600',
  },
});

describe('GET /calls/ice-servers', () => {
  it('hands a signed-in user STUN, and TURN credentials that a TURN server can verify and that expire', async () => {
    const { client, userId } = await registered(fx.stack.restUrl, 'ice');
    const before = Math.floor(Date.now() / 1000);

    const answer = await client.get('/calls/ice-servers');

    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const [stun, turn] = answer.body.iceServers as { urls: string[]; username?: string; credential?: string }[];
    expect(stun).toEqual({ urls: ['stun:stun.example.test:3478'] });
    expect(turn?.urls).toEqual(['turn:turn.example.test:3478?transport=udp', 'turns:turn.example.test:5349']);
    const [expiry, who] = String(turn?.username).split(':');
    expect(who).toBe(userId);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
    expect(Number(expiry)).toBeLessThanOrEqual(before + 602);
    expect(turn?.credential).toBe(createHmac('sha1', TURN_SECRET).update(String(turn?.username)).digest('base64'));
    expect(Date.parse(String(answer.body.expiresAt))).toBe(Number(expiry) * 1000);
    expect(answer.text).not.toContain(TURN_SECRET);
  });

  it('needs a signed-in caller', async () => {
    const anonymous = await new ApiClient(fx.stack.restUrl).get('/calls/ice-servers');
    expect(anonymous.status).toBe(401);
  });
});
