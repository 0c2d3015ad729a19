import { ErrorFrame } from '@ciphertalk/shared/protocol';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { UnavailableError } from '#domain/errors.ts';

/** The WebSocket side of the cold path (issue 13, finding 5): a resuming database is a retryable error frame. */
const posted: { connectionId: string; frame: unknown }[] = [];
vi.mock('#adapters/clients/connections-api.ts', () => ({
  connectionsApi: () => ({
    post: async (connectionId: string, frame: unknown) => {
      posted.push({ connectionId, frame });
      return 'sent';
    },
    disconnect: async () => 'closed',
  }),
}));
const { frameHandler } = await import('#lib/ws.ts');

describe('frameHandler on a resuming database', () => {
  it('answers the frame with an `unavailable` error frame carrying retryAfterSeconds', async () => {
    const handler = frameHandler(z.object({ action: z.string(), id: z.string() }), async () => {
      throw new UnavailableError(new Error('The database is resuming'), { retryAfterSeconds: 5 });
    });
    const event = {
      body: JSON.stringify({ action: 'message.send', id: 'req-1' }),
      isBase64Encoded: false,
      requestContext: { connectionId: 'conn-1', requestId: 'r-1', routeKey: 'message.send' },
    };
    const result = await handler(event as never, { awsRequestId: 'a', functionName: 'realtime' } as Context);
    expect(result.statusCode).toBe(503);
    const [answer] = posted;
    expect(answer?.connectionId).toBe('conn-1');
    expect(ErrorFrame.parse(answer?.frame)).toEqual({
      type: 'error',
      id: 'req-1',
      error: { code: 'unavailable', message: 'Service unavailable; try again shortly', retryAfterSeconds: 5 },
    });
  });
});
