import { GetConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HandlerResolver, resolveFunctionsPackage } from '../local/gateway/lambda.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { fetchJson } from './support/fixtures.ts';
import { closed, frames, managementClient, openSocket } from './support/stack.ts';
import { deviceSession } from './support/ws-auth.ts';

/**
 * The whole local stack on its embedded defaults (PGlite, s3rver, dynalite,
 * the in-process registry) with the real handlers from functions/.
 */
let stack: LocalStack;
/** $connect admits only ticket holders: a user with a device, whose single-use tickets open the sockets below. */
let ticketUrl: () => Promise<string>;
let userId: string;
/** Connection ids seen by the real $connect handler: the resolver is wrapped, the handlers are not. */
const connectedIds: string[] = [];
const observe: HandlerResolver = async (name) => {
  const handler = await resolveFunctionsPackage(name);
  if (name !== 'wsConnect') return handler;
  return (event, context) => {
    connectedIds.push((event as { requestContext: { connectionId: string } }).requestContext.connectionId);
    return handler(event, context);
  };
};

beforeAll(async () => {
  stack = await startLocalStack({ dataDir: null, ports: { rest: 0, ws: 0, web: null }, env: {}, resolve: observe });
  ({ ticketUrl, userId } = await deviceSession(stack.restUrl, stack.wsUrl));
}, 60_000);
afterAll(() => stack?.stop());

describe('local stack on embedded defaults', () => {
  it('reports what it runs on', () => {
    expect(stack.services).toEqual({
      database: 'embedded PGlite',
      redis: 'in-process registry',
      s3: 'embedded s3rver behind a SigV4 verifier',
      dynamodb: 'embedded dynalite',
    });
  });

  it('answers GET /health with every dependency ok, from real checks', async () => {
    const { status, body } = await fetchJson(`${stack.restUrl}/health`);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', database: 'ok', redis: 'ok', s3: 'ok', dynamodb: 'ok' });
  });

  it("answers routes that are not in the route table with API Gateway's 403", async () => {
    const { status, body } = await fetchJson(`${stack.restUrl}/health/../admin`, { method: 'DELETE' });
    expect(status).toBe(403);
    expect(body).toEqual({ message: 'Missing Authentication Token' });
  });

  it('routes a ping frame to the real handler, which answers through @connections with the SDK client', async () => {
    const socket = await openSocket(await ticketUrl());
    const inbox = frames(socket);
    socket.send(JSON.stringify({ action: 'ping', id: 'req-1', payload: 'hello' }));
    const pong = await inbox.next();
    expect(pong).toMatchObject({ type: 'pong', id: 'req-1', payload: 'hello' });
    expect(typeof pong.at).toBe('number');
    socket.close();
    await closed(socket);
  });

  it('answers bad frames with error frames and keeps the connection open', async () => {
    const socket = await openSocket(await ticketUrl());
    const inbox = frames(socket);
    socket.send('{"action": "ping", ');
    expect(await inbox.next()).toEqual({
      type: 'error',
      id: null,
      error: { code: 'invalid_json', message: 'The body is not valid JSON' },
    });
    socket.send(JSON.stringify({ action: 'ping', id: 'req-2', payload: 'x'.repeat(2000) }));
    expect(await inbox.next()).toMatchObject({ type: 'error', id: 'req-2', error: { code: 'validation_failed' } });
    socket.send(JSON.stringify({ action: 'teleport', id: 'req-3' }));
    expect(await inbox.next()).toMatchObject({ type: 'error', id: 'req-3', error: { code: 'unknown_action' } });
    socket.send(JSON.stringify({ action: 'ping', id: 'req-4' }));
    expect(await inbox.next()).toMatchObject({ type: 'pong', id: 'req-4' });
    socket.close();
    await closed(socket);
  });

  it('closes with 1009 on a frame over 32 KB, and the service stays up', async () => {
    const socket = await openSocket(await ticketUrl());
    socket.send(JSON.stringify({ action: 'ping', id: 'big', payload: 'x'.repeat(40 * 1024) }));
    expect(await closed(socket)).toBe(1009);
    expect((await fetchJson(`${stack.restUrl}/health`)).status).toBe(200);
  });

  it('registers a live connection, and answers GoneException once it has closed', async () => {
    const socket = await openSocket(await ticketUrl());
    const id = connectedIds.at(-1) as string;
    const client = managementClient(stack.managementEndpoint);
    const { connectionRegistry } = await import('@ciphertalk/functions/adapters/clients/connection-registry.ts');

    const info = await client.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');
    expect(await connectionRegistry().get(id)).toMatchObject({ connectionId: id, userId, deviceId: 1 });

    socket.close();
    await closed(socket);
    const late = client.send(new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('late') }));
    await expect(late).rejects.toBeInstanceOf(GoneException);
    await expect.poll(() => connectionRegistry().get(id)).toBeNull();
  });
});
