import { ErrorCode } from '@ciphertalk/shared/protocol';
import { z } from 'zod';
import { AppError } from '#domain/errors.ts';
import { frameHandler } from '#lib/ws.ts';

/**
 * $default: a frame whose `action` names no route. Answers an error frame
 * saying so (or, for unreadable frames, what is wrong with them).
 */
export const handler = frameHandler(z.object({ action: z.string().max(64) }), async ({ frame }) => {
  throw new AppError(400, ErrorCode.UnknownAction, `Unknown action "${frame.action}"`);
});
