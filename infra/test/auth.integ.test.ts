import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, registered, strongPassword, uniqueEmail } from './support/api.ts';
import { captureOutput } from './support/capture-output.ts';
import { decodePayload, forgeToken, unsignedToken } from './support/jwt.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/** Accounts and sessions through the twin, the real handlers and authorizer, on real PostgreSQL. */
const jwtSecret = randomBytes(32).toString('base64url');
const origin = 'http://localhost:5173';
// DEBUG: every line the handlers can log is written, so the secrets test below sees all of them.
// Many users from one address: the limits themselves are tested in rate-limits.integ.test.ts.
const fx = stackOnFreshSchema({
  env: { JWT_SECRET: jwtSecret, ALLOWED_ORIGINS: origin, POWERTOOLS_LOG_LEVEL: 'DEBUG', RATE_LIMIT_MULTIPLIER: '100' },
});

describe('register', () => {
  it('creates the account, answers an access token and sets the refresh cookie', async () => {
    const client = new ApiClient(fx.stack.restUrl);
    const email = uniqueEmail('reg');
    const answer = await client.post('/auth/register', { email, password: strongPassword(), displayName: 'Reg' });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { email, displayName: 'Reg' } });
    expect(Object.keys(answer.body.user as object).sort()).toEqual(['createdAt', 'displayName', 'email', 'id']);
    const [cookie] = answer.headers.getSetCookie();
    expect(cookie).toMatch(/^ct_refresh=[\w-]{43}; Max-Age=2592000; Path=\/auth; HttpOnly; Secure; SameSite=Strict$/);
    expect(answer.text).not.toContain(client.refreshCookie);
    const claims = decodePayload(client.accessToken as string);
    expect(claims).toMatchObject({ sub: (answer.body.user as { id: string }).id, iss: 'ciphertalk' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
  });

  it('refuses a second account with the same email, whatever its case', async () => {
    const { email } = await registered(fx.stack.restUrl, 'dup');
    const again = await new ApiClient(fx.stack.restUrl).post('/auth/register', {
      email: email.toUpperCase(),
      password: strongPassword(),
      displayName: 'Dup',
    });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('conflict');
  });

  it('enforces the password policy: at least 12 characters, not the email', async () => {
    const client = new ApiClient(fx.stack.restUrl);
    const email = uniqueEmail('policy');
    const short = await client.post('/auth/register', { email, password: 'short-pw-11', displayName: 'P' });
    expect(short.status).toBe(400);
    expect(short.body.error?.code).toBe('validation_failed');
    expect(short.text).not.toContain('short-pw-11');
    const same = await client.post('/auth/register', { email, password: email.toUpperCase(), displayName: 'P' });
    expect(same.status).toBe(400);
    expect(same.body.error?.code).toBe('weak_password');
    const local = await client.post('/auth/register', {
      email: `${'a'.repeat(14)}@example.test`,
      password: 'a'.repeat(14),
      displayName: 'P',
    });
    expect(local.body.error?.code).toBe('weak_password');
  });
});

describe('login', () => {
  it('opens a new session for the right password', async () => {
    const { email, password } = await registered(fx.stack.restUrl, 'login');
    const client = new ApiClient(fx.stack.restUrl);
    const answer = await client.post('/auth/login', { email: ` ${email.toUpperCase()} `, password });
    expect(answer.status).toBe(200);
    expect(client.refreshCookie).toMatch(/^[\w-]{43}$/);
    expect((await client.get('/me')).status).toBe(200);
  });

  it('answers an unknown email exactly like a wrong password, after a real hash verification', async () => {
    const { email } = await registered(fx.stack.restUrl, 'enum');
    const client = new ApiClient(fx.stack.restUrl);
    const timed = async (body: object) => {
      const started = performance.now();
      const answer = await client.post('/auth/login', body);
      return { answer, ms: performance.now() - started };
    };
    const wrong = await timed({ email, password: 'not-the-password-at-all' });
    const unknown = await timed({ email: uniqueEmail('nobody'), password: 'not-the-password-at-all' });
    expect(wrong.answer.status).toBe(401);
    expect(unknown.answer.status).toBe(401);
    expect(unknown.answer.text).toBe(wrong.answer.text);
    expect(wrong.answer.body.error?.code).toBe('invalid_credentials');
    expect(unknown.answer.headers.getSetCookie()).toEqual([]);
    // Without the dummy verification an unknown email answers in one index lookup (~1 ms); argon2 takes tens.
    expect(unknown.ms).toBeGreaterThan(15);
  });
});

describe('the JWT authorizer', () => {
  let victim: Awaited<ReturnType<typeof registered>>;
  let claims: { sub: string; sid: string };
  beforeAll(async () => {
    victim = await registered(fx.stack.restUrl, 'jwt');
    const payload = decodePayload(victim.client.accessToken as string);
    claims = { sub: payload.sub as string, sid: payload.sid as string };
  });
  const meWith = (token: string) =>
    new ApiClient(fx.stack.restUrl).get('/me', token ? { authorization: `Bearer ${token}` } : {});

  it('lets a valid token through and hands the handler who is calling', async () => {
    const answer = await meWith(victim.client.accessToken as string);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ user: { id: victim.userId }, session: { id: claims.sid, deviceId: null } });
  });

  it('is not fooled by a well-formed token signed with our key (control for the cases below)', async () => {
    expect((await meWith(forgeToken(jwtSecret, claims))).status).toBe(200);
  });

  it.each([
    ['no token', () => ''],
    ['alg none', () => unsignedToken({ ...claims, iss: 'ciphertalk', aud: 'ciphertalk-api', exp: 9e9, iat: 1 })],
    ['alg none with our signature', () => `${unsignedToken(claims)}${forgeToken(jwtSecret, claims).split('.')[2]}`],
    ['another key', () => forgeToken(randomBytes(32).toString('base64url'), claims)],
    ['HS512 with our key', () => forgeToken(jwtSecret, claims, { alg: 'HS512', typ: 'JWT' })],
    ['expired', () => forgeToken(jwtSecret, { ...claims, iat: 1_000, exp: 1_900 })],
    ['issued in the future', () => forgeToken(jwtSecret, { ...claims, iat: Date.now() / 1000 + 3600 })],
    ['longer-lived than we issue', () => forgeToken(jwtSecret, { ...claims, exp: Date.now() / 1000 + 86_400 })],
    ['another issuer', () => forgeToken(jwtSecret, { ...claims, iss: 'evil' })],
    ['another audience', () => forgeToken(jwtSecret, { ...claims, aud: 'other-api' })],
    ['a made-up session', () => forgeToken(jwtSecret, { ...claims, sid: randomUUID() })],
    [
      'tampered subject',
      () => {
        const [header, , signature] = (victim.client.accessToken as string).split('.');
        const payload = { ...decodePayload(victim.client.accessToken as string), sub: randomUUID() };
        return `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
      },
    ],
  ])('refuses %s with 401', async (_name, token) => {
    const answer = await meWith(token());
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ message: 'Unauthorized' });
  });
});

describe('refresh', () => {
  it('rotates: a new access token and a new cookie, the old cookie spent', async () => {
    const { client } = await registered(fx.stack.restUrl, 'rot');
    const firstCookie = client.refreshCookie;
    const firstSid = decodePayload(client.accessToken as string).sid;
    const answer = await client.post('/auth/refresh', undefined, { origin });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ tokenType: 'Bearer', user: { email: expect.any(String) } });
    expect(client.refreshCookie).not.toBe(firstCookie);
    expect(decodePayload(client.accessToken as string).sid).toBe(firstSid);
    expect((await client.get('/me')).status).toBe(200);
  });

  it('treats a reused refresh token as theft: the whole session dies, tokens of both holders included', async () => {
    const { client, email, password } = await registered(fx.stack.restUrl, 'reuse');
    const stolen = client.refreshCookie;
    expect((await client.post('/auth/refresh')).status).toBe(200);
    const thief = new ApiClient(fx.stack.restUrl);
    thief.refreshCookie = stolen;
    const replay = await thief.post('/auth/refresh');
    expect(replay.status).toBe(401);
    expect(replay.headers.getSetCookie()[0]).toMatch(/^ct_refresh=; Max-Age=0; Path=\/auth/);
    // The legitimate holder's newer refresh token and its access token are dead too.
    expect((await client.get('/me')).status).toBe(401);
    expect((await client.post('/auth/refresh')).status).toBe(401);
    // ...and the owner finds the theft in their audit log after logging in again.
    const again = new ApiClient(fx.stack.restUrl);
    expect((await again.post('/auth/login', { email, password })).status).toBe(200);
    const audit = await again.get('/me/audit');
    expect(audit.body.events).toContainEqual(
      expect.objectContaining({
        type: 'refresh_token_reused',
        sessionId: expect.any(String),
        details: { sessionRevoked: true },
      }),
    );
  });

  it('lets only one of two concurrent refreshes with the same token win, and then ends the session', async () => {
    const { client } = await registered(fx.stack.restUrl, 'race');
    const token = client.refreshCookie;
    const attempt = () =>
      fetch(`${fx.stack.restUrl}/auth/refresh`, { method: 'POST', headers: { cookie: `ct_refresh=${token}` } });
    const statuses = (await Promise.all([attempt(), attempt()])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401]);
    expect((await client.get('/me')).status).toBe(401);
  });

  it('refuses a missing, unknown or foreign-origin refresh', async () => {
    const client = new ApiClient(fx.stack.restUrl);
    expect((await client.post('/auth/refresh')).status).toBe(401);
    client.refreshCookie = randomBytes(32).toString('base64url');
    expect((await client.post('/auth/refresh')).status).toBe(401);
    const { client: victim } = await registered(fx.stack.restUrl, 'csrf');
    const foreign = await victim.post('/auth/refresh', undefined, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await victim.post('/auth/refresh', undefined, { origin })).status).toBe(200);
  });
});

describe('logout', () => {
  it('ends the current session only: its access and refresh tokens stop working', async () => {
    const { email, password, client } = await registered(fx.stack.restUrl, 'out');
    const other = new ApiClient(fx.stack.restUrl);
    await other.post('/auth/login', { email, password });
    const cookie = client.refreshCookie;
    const answer = await client.post('/auth/logout');
    expect(answer.status).toBe(204);
    expect(answer.headers.getSetCookie()[0]).toMatch(/^ct_refresh=; Max-Age=0; Path=\/auth; HttpOnly; Secure/);
    expect((await client.get('/me')).status).toBe(401);
    client.refreshCookie = cookie;
    expect((await client.post('/auth/refresh')).status).toBe(401);
    expect((await other.get('/me')).status).toBe(200);
  });

  it('logout-all ends every session of the user', async () => {
    const { email, password, client } = await registered(fx.stack.restUrl, 'all');
    const other = new ApiClient(fx.stack.restUrl);
    await other.post('/auth/login', { email, password });
    const answer = await client.post('/auth/logout-all');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ revokedSessions: 2 });
    expect((await other.get('/me')).status).toBe(401);
    expect((await other.post('/auth/refresh')).status).toBe(401);
    expect((await client.get('/me')).status).toBe(401);
  });
});

describe('me', () => {
  it('changes the display name, and nothing it was not asked to', async () => {
    const { client, email } = await registered(fx.stack.restUrl, 'me');
    const answer = await client.patch('/me', { displayName: '  New Name ' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ user: { displayName: 'New Name', email } });
    expect((await client.patch('/me', { email: 'takeover@example.test' })).status).toBe(400);
  });

  it('changes the password after checking the current one, ending the other sessions', async () => {
    const { client, email, password } = await registered(fx.stack.restUrl, 'pw');
    const other = new ApiClient(fx.stack.restUrl);
    await other.post('/auth/login', { email, password });
    const next = strongPassword();
    const wrong = await client.post('/me/password', { currentPassword: 'wrong-password-1', newPassword: next });
    expect(wrong.status).toBe(401);
    expect((await client.get('/me')).status).toBe(200);
    const weak = await client.post('/me/password', { currentPassword: password, newPassword: email });
    expect(weak.body.error?.code).toBe('weak_password');
    const done = await client.post('/me/password', { currentPassword: password, newPassword: next });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ revokedSessions: 1 });
    expect((await other.get('/me')).status).toBe(401);
    expect((await client.get('/me')).status).toBe(200);
    expect((await new ApiClient(fx.stack.restUrl).post('/auth/login', { email, password })).status).toBe(401);
    expect((await new ApiClient(fx.stack.restUrl).post('/auth/login', { email, password: next })).status).toBe(200);
  });
});

describe('OpenAPI', () => {
  it('serves the description of every route at GET /openapi.json, to signed-in callers', async () => {
    expect((await new ApiClient(fx.stack.restUrl).get('/openapi.json')).status).toBe(401);
    const { client } = await registered(fx.stack.restUrl, 'openapi');
    const answer = await client.get('/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ openapi: '3.1.0', info: { title: 'CipherTalk REST API' } });
    const paths = answer.body.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/auth/login', '/devices/{deviceId}', '/users']));
    expect(paths['/auth/login']?.post).toMatchObject({ security: [] });
  });
});

describe('audit log', () => {
  it("records the account's security events, newest first, in pages", async () => {
    const { client, email, password } = await registered(fx.stack.restUrl, 'audit');
    await new ApiClient(fx.stack.restUrl).post('/auth/login', { email, password: 'wrong-password-123' });
    // A client-made X-Forwarded-For changes nothing: no proxy is trusted here (TRUSTED_PROXY_HOPS unset).
    await new ApiClient(fx.stack.restUrl, { 'user-agent': 'agent/2', 'x-forwarded-for': '6.6.6.6' }).post(
      '/auth/login',
      {
        email,
        password,
      },
    );
    const next = strongPassword();
    await client.post('/me/password', { currentPassword: password, newPassword: next });
    const page = await client.get('/me/audit?limit=3');
    expect(page.status).toBe(200);
    const events = page.body.events as { type: string; at: string; sourceIp: string; userAgent: string }[];
    expect(events.map((e) => e.type)).toEqual(['password_changed', 'login_succeeded', 'login_failed']);
    expect(events[1]).toMatchObject({ sourceIp: '127.0.0.1', userAgent: 'agent/2' });
    expect(Date.parse(events[0]?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(events[2]?.at ?? ''));
    const rest = await client.get(`/me/audit?limit=3&cursor=${page.body.nextCursor}`);
    expect((rest.body.events as { type: string }[]).map((e) => e.type)).toEqual(['account_registered']);
    expect(JSON.stringify([page.body, rest.body])).not.toMatch(new RegExp(`${password}|${next}|argon2`));
  });

  it('shows each user only their own events, whatever the cursor says', async () => {
    const alice = await registered(fx.stack.restUrl, 'alice');
    const mallory = await registered(fx.stack.restUrl, 'mallory');
    const own = await mallory.client.get('/me/audit');
    expect((own.body.events as unknown[]).length).toBe(1);
    // A cursor is a position in the caller's own partition; one crafted from another user's key reads nothing of theirs.
    const forged = Buffer.from(`user#${alice.userId}`).toString('base64url');
    const answer = await mallory.client.get(`/me/audit?cursor=${forged}`);
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.body)).not.toContain(alice.userId);
    expect((await mallory.client.get('/me/audit?limit=1000')).status).toBe(400);
  });
});

describe('secrets', () => {
  it('never reach a response body or a log line: passwords, hashes, access and refresh tokens', async () => {
    const { written, restore } = captureOutput();
    const bodies: string[] = [];
    const seen: string[] = [];
    try {
      const client = new ApiClient(fx.stack.restUrl);
      const email = uniqueEmail('secret');
      const password = strongPassword();
      const next = strongPassword();
      const record = (answer: { text: string }) => bodies.push(answer.text);
      record(await client.post('/auth/register', { email, password, displayName: 'S' }));
      seen.push(client.refreshCookie as string);
      record(await client.post('/auth/login', { email, password: 'wrong-password-xyz' }));
      record(await client.post('/auth/login', { email, password }));
      seen.push(client.refreshCookie as string);
      record(await client.post('/auth/refresh'));
      record(await client.get('/me'));
      record(await client.post('/me/password', { currentPassword: password, newPassword: next }));
      record(await client.post('/auth/logout'));
      for (const secret of [password, next, 'wrong-password-xyz', ...seen]) {
        for (const text of [...bodies, ...written]) expect(text).not.toContain(secret);
      }
      for (const text of written) expect(text).not.toMatch(/\$argon2id\$|Bearer |eyJhbGciOi/);
      for (const text of bodies) expect(text).not.toMatch(/\$argon2id\$|password_?hash/i);
    } finally {
      restore();
    }
    // The capture saw the handlers' log lines: the test could have failed.
    expect(written.join('')).toContain('"message":"request"');
  });
});

describe('sessions', () => {
  it("lists the caller's live sessions and ends one of them, not another user's", async () => {
    const { client, email, password } = await registered(fx.stack.restUrl, 'sessions');
    const phone = new ApiClient(fx.stack.restUrl, { 'user-agent': 'phone/1' });
    await phone.post('/auth/login', { email, password });
    const listed = await client.get('/me/sessions');
    expect(listed.status).toBe(200);
    const sessions = listed.body.sessions as { id: string; current: boolean; userAgent: string }[];
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const phoneSession = sessions.find((s) => s.userAgent === 'phone/1');
    expect(phoneSession?.current).toBe(false);
    expect(JSON.stringify(listed.body)).not.toMatch(/token|hash/i);

    const mallory = await registered(fx.stack.restUrl, 'sessions-mallory');
    expect((await mallory.client.delete(`/me/sessions/${phoneSession?.id}`)).status).toBe(404);
    expect((await phone.get('/me')).status).toBe(200);

    expect((await client.delete(`/me/sessions/${phoneSession?.id}`)).status).toBe(204);
    expect((await phone.get('/me')).status).toBe(401);
    expect((await phone.post('/auth/refresh')).status).toBe(401);
    expect((await client.get('/me/sessions')).body.sessions).toHaveLength(1);
    expect((await client.delete(`/me/sessions/${phoneSession?.id}`)).status).toBe(404);
    const audit = await client.get('/me/audit');
    expect(audit.body.events).toContainEqual(
      expect.objectContaining({ type: 'session_revoked', details: { revokedSession: phoneSession?.id } }),
    );
  });
});
