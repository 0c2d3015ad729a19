import { type ErrorFrame, RequestId, type ServerFrame } from '@ciphertalk/shared/protocol';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { connectionsApi } from '#adapters/clients/connections-api.ts';
import { toErrorBody } from './error-response.ts';
import { logger } from './observability.ts';
import { parseJson, validate } from './validation.ts';
import { chain, type WebSocketEvent } from './ws-chain.ts';

export interface FrameRequest<Frame> {
  readonly frame: Frame;
  readonly connectionId: string;
  readonly requestId: string;
  readonly event: WebSocketEvent;
}

/**
 * The handler chain for a WebSocket route that receives frames: the frame is
 * validated with its shared schema, and any failure is answered to the sender
 * as an `error` frame carrying the request's id (API Gateway discards a route's
 * return value unless a route response is configured, so errors travel over
 * @connections like every other answer).
 */
export function frameHandler<S extends z.ZodType>(
  schema: S,
  handle: (request: FrameRequest<z.infer<S>>, context: Context) => Promise<void>,
) {
  return chain().handler(async (event, context) => {
    const { connectionId, requestId } = event.requestContext;
    let id: string | null = null;
    try {
      const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
      const raw = parseJson(body ?? '');
      id = readId(raw);
      const frame = validate(schema, raw, 'frame');
      await handle({ frame, connectionId, requestId, event }, context);
      return { statusCode: 200, body: '' };
    } catch (error) {
      const { status, body } = toErrorBody(error);
      const reply: ErrorFrame = { type: 'error', id, error: body.error };
      await connectionsApi()
        .post(connectionId, reply)
        .catch((postError: unknown) =>
          logger.warn('could not answer with an error frame', { error: String(postError) }),
        );
      return { statusCode: status, body: '' };
    }
  });
}

/** Answers the connection a frame came from (an ack, an error): through @connections, like every answer. */
export async function reply(connectionId: string, frame: ServerFrame): Promise<void> {
  await connectionsApi().post(connectionId, frame);
}

function readId(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || !('id' in raw)) return null;
  const parsed = RequestId.safeParse(raw.id);
  return parsed.success ? parsed.data : null;
}
