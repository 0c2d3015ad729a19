import { describe, expect, it } from 'vitest';
import { ApiClient, registered } from './support/api.ts';
import { captureOutput } from './support/capture-output.ts';
import { deviceKeys } from './support/device-keys.ts';
import { closed, frames, openSocket } from './support/stack.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';
import { deviceSession } from './support/ws-auth.ts';

/** WebSocket admission with single-use tickets, on real PostgreSQL and Redis (logical db 5, flushed after). */
const fx = stackOnFreshSchema({ redisDb: 5, env: { RATE_LIMIT_MULTIPLIER: '100', POWERTOOLS_LOG_LEVEL: 'DEBUG' } });

const refused = (url: string) =>
  openSocket(url).then(
    (socket) => {
      socket.close();
      return 'open';
    },
    (error: Error) => error.message,
  );

describe('WebSocket tickets', () => {
  it('admits a ticket holder and records its user and device in the registry', async () => {
    const alice = await deviceSession(fx.stack.restUrl, fx.stack.wsUrl, 'ws-alice');
    const lastSeen = async () =>
      Date.parse(((await alice.client.get('/devices')).body.devices as { lastSeenAt: string }[])[0]?.lastSeenAt ?? '');
    const registeredAt = await lastSeen();
    const socket = await openSocket(await alice.ticketUrl());
    // Coming online (a ticket) is what the device list reports as last seen.
    expect(await lastSeen()).toBeGreaterThan(registeredAt);
    const inbox = frames(socket);
    socket.send(JSON.stringify({ action: 'ping', id: 'p1' }));
    expect(await inbox.next()).toMatchObject({ type: 'pong', id: 'p1' });
    // The registry holds the ticket's hash only, and not after it was spent.
    expect(await fx.redis.hlen(`user:${alice.userId}:tickets`)).toBe(0);
    const conns = await fx.redis.hgetall(`user:${alice.userId}:conns`);
    expect(Object.values(conns).map((json) => JSON.parse(json))).toEqual([
      expect.objectContaining({ userId: alice.userId, deviceId: alice.deviceId }),
    ]);
    socket.close();
    await closed(socket);
  });

  it('refuses no ticket, a made-up ticket, a spent ticket and an expired ticket with 401', async () => {
    const bob = await deviceSession(fx.stack.restUrl, fx.stack.wsUrl, 'ws-bob');
    expect(await refused(fx.stack.wsUrl)).toBe('refused with 401');
    expect(await refused(`${fx.stack.wsUrl}?ticket=${'A'.repeat(43)}`)).toBe('refused with 401');
    const forged = Buffer.concat([Buffer.from(bob.userId.replaceAll('-', ''), 'hex'), Buffer.alloc(32, 1)]);
    expect(await refused(`${fx.stack.wsUrl}?ticket=${forged.toString('base64url')}`)).toBe('refused with 401');
    const url = await bob.ticketUrl();
    const first = await openSocket(url);
    expect(await refused(url)).toBe('refused with 401');
    first.close();
    const expiring = await bob.ticketUrl();
    const key = `user:${bob.userId}:tickets`;
    for (const [hash, json] of Object.entries(await fx.redis.hgetall(key))) {
      await fx.redis.hset(key, hash, JSON.stringify({ ...JSON.parse(json), expiresAt: Date.now() - 1000 }));
    }
    expect(await refused(expiring)).toBe('refused with 401');
  });

  it('gives tickets only to sessions with a device, and only while the device lives', async () => {
    const { client } = await registered(fx.stack.restUrl, 'ws-nodevice');
    expect((await client.post('/auth/ws-ticket')).status).toBe(403);
    expect((await new ApiClient(fx.stack.restUrl).post('/auth/ws-ticket')).status).toBe(401);

    const carol = await deviceSession(fx.stack.restUrl, fx.stack.wsUrl, 'ws-carol');
    const url = await carol.ticketUrl();
    const other = new ApiClient(fx.stack.restUrl);
    await other.post('/auth/login', { email: carol.email, password: carol.password });
    await other.post('/devices', (await deviceKeys()).body('Other'));
    expect((await other.delete(`/devices/${carol.deviceId}`)).status).toBe(200);
    expect(await refused(url)).toBe('refused with 401');
  });

  it('gives no ticket to a session that was revoked while its access token still lives', async () => {
    const erin = await deviceSession(fx.stack.restUrl, fx.stack.wsUrl, 'ws-revoked');
    expect((await erin.client.post('/auth/ws-ticket')).status).toBe(200);
    const other = new ApiClient(fx.stack.restUrl);
    await other.post('/auth/login', { email: erin.email, password: erin.password });
    const current = (await erin.client.get('/me')).body.session as { id: string };

    expect((await other.delete(`/me/sessions/${current.id}`)).status).toBe(204);

    // The authorizer checks the session is live on every call, so the revoked one is refused at the gateway.
    expect((await erin.client.post('/auth/ws-ticket')).status).toBe(401);
    expect(await fx.redis.hlen(`user:${erin.userId}:tickets`)).toBe(0);
  });

  it("hangs up on a device's open sockets when the device is revoked, and on all of them at logout-all", async () => {
    const dave = await deviceSession(fx.stack.restUrl, fx.stack.wsUrl, 'ws-dave');
    const phone = new ApiClient(fx.stack.restUrl);
    await phone.post('/auth/login', { email: dave.email, password: dave.password });
    await phone.post('/devices', (await deviceKeys()).body('Phone'));
    const phoneTicket = (await phone.post('/auth/ws-ticket')).body.ticket as string;
    const laptopSocket = await openSocket(await dave.ticketUrl());
    const phoneSocket = await openSocket(`${fx.stack.wsUrl}?ticket=${phoneTicket}`);
    const phoneClosed = closed(phoneSocket);
    expect((await dave.client.delete('/devices/2')).status).toBe(200);
    await phoneClosed;
    expect(laptopSocket.readyState).toBe(laptopSocket.OPEN);
    const laptopClosed = closed(laptopSocket);
    expect((await dave.client.post('/auth/logout-all')).status).toBe(200);
    await laptopClosed;
    await expect.poll(() => fx.redis.hlen(`user:${dave.userId}:conns`)).toBe(0);
  });

  it('never logs a ticket', async () => {
    const erin = await deviceSession(fx.stack.restUrl, fx.stack.wsUrl, 'ws-erin');
    const { written, restore } = captureOutput();
    const url = await erin.ticketUrl();
    try {
      const socket = await openSocket(url);
      await refused(url);
      socket.close();
      await closed(socket);
    } finally {
      restore();
    }
    const ticket = new URL(url).searchParams.get('ticket') as string;
    expect(written.join('')).toContain('"message":"route"');
    expect(written.join('')).not.toContain(ticket);
  });
});
