import { z } from 'zod';
import { ErrorBody } from './errors.ts';

/**
 * WebSocket frames. Client frames are selected by `action` (API Gateway's
 * `$request.body.action` route selection); server frames by `type`.
 * Every client frame carries an `id` so the answer (ack or error) can be matched.
 */
export const RequestId = z.string().min(1).max(64);

export const PingFrame = z.object({
  action: z.literal('ping'),
  id: RequestId,
  /** Echoed back untouched; lets a client measure round trips. */
  payload: z.string().max(1024).optional(),
});
export type PingFrame = z.infer<typeof PingFrame>;

export const ClientFrame = z.discriminatedUnion('action', [PingFrame]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientAction = ClientFrame['action'];

export const PongFrame = z.object({
  type: z.literal('pong'),
  id: RequestId,
  payload: z.string().optional(),
  at: z.number().int(),
});
export type PongFrame = z.infer<typeof PongFrame>;

export const ErrorFrame = z.object({
  type: z.literal('error'),
  /** The request's id when the frame carried one that could be read. */
  id: RequestId.nullable(),
  error: ErrorBody.shape.error,
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

export const ServerFrame = z.discriminatedUnion('type', [PongFrame, ErrorFrame]);
export type ServerFrame = z.infer<typeof ServerFrame>;
