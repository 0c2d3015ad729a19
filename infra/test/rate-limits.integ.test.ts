import { describe, expect, it } from 'vitest';
import { ApiClient, registered } from './support/api.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/** The production limits (no multiplier), counted in the embedded dynalite, through the twin. */
const fx = stackOnFreshSchema();

describe('rate limits', () => {
  it('stops password guessing on one account after 10 tries in 15 minutes, with 429 and Retry-After', async () => {
    const victim = await registered(fx.stack.restUrl, 'guess');
    const attacker = new ApiClient(fx.stack.restUrl);
    for (let i = 0; i < 10; i++) {
      const answer = await attacker.post('/auth/login', { email: victim.email, password: `guess-number-${i}` });
      expect(answer.status).toBe(401);
    }
    const limited = await attacker.post('/auth/login', { email: victim.email.toUpperCase(), password: 'guess-11' });
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // While limited even the right password is refused: the limit cannot be probed for a hit.
    const right = await new ApiClient(fx.stack.restUrl).post('/auth/login', {
      email: victim.email,
      password: victim.password,
    });
    expect(right.status).toBe(429);
    // The owner sees the attack.
    const audit = await victim.client.get('/me/audit?limit=100');
    const types = (audit.body.events as { type: string }[]).map((e) => e.type);
    expect(types.filter((t) => t === 'login_failed')).toHaveLength(10);
    expect(types).toContain('rate_limited');
  });

  it('limits unknown emails the same way, so the limit does not reveal which accounts exist', async () => {
    const attacker = new ApiClient(fx.stack.restUrl);
    const email = 'nobody-here@example.test';
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await attacker.post('/auth/login', { email, password: `guess-${i}` })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  it('limits password-change attempts with a stolen access token to 5 per 15 minutes', async () => {
    const { client } = await registered(fx.stack.restUrl, 'change');
    for (let i = 0; i < 5; i++) {
      const answer = await client.post('/me/password', {
        currentPassword: `wrong-${i}`,
        newPassword: 'new-password-123',
      });
      expect(answer.status).toBe(401);
    }
    const limited = await client.post('/me/password', { currentPassword: 'wrong-6', newPassword: 'new-password-123' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('limits upload slots to 300 a minute per user', async () => {
    const alice = await registered(fx.stack.restUrl, 'slots');
    const bob = await registered(fx.stack.restUrl, 'slots-bob');
    const created = await alice.client.post('/conversations', { kind: 'direct', userId: bob.userId });
    const conversationId = (created.body.conversation as { id: string }).id;
    // The limiter counts in fixed one-minute windows: start early in one so the 301 requests share it.
    const intoWindow = (Date.now() / 1000) % 60;
    if (intoWindow > 30) await new Promise((resolve) => setTimeout(resolve, (60.5 - intoWindow) * 1000));
    for (let i = 0; i < 300; i += 10) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => alice.client.post('/attachments', { conversationId, size: 16 })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(201));
    }
    const limited = await alice.client.post('/attachments', { conversationId, size: 16 });
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('rate_limited');
    expect((await bob.client.post('/attachments', { conversationId, size: 16 })).status).toBe(201);
  }, 90_000);
});
