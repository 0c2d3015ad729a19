import { z } from 'zod';
import { text } from './text.ts';

/** `GET /me/audit`: the caller's own security events, newest first. */
export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  /** `nextCursor` of the previous page. */
  cursor: z
    .string()
    .max(200)
    .regex(/^[\w-]+$/)
    .optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditEntry = z.object({
  type: text(),
  at: z.iso.datetime(),
  sourceIp: text(),
  userAgent: text(),
  sessionId: text().nullable(),
  deviceId: z.number().int().nullable(),
  details: z.record(text(), z.union([text(), z.number(), z.boolean()])).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditResponse = z.object({ events: z.array(AuditEntry), nextCursor: text().nullable() });
export type AuditResponse = z.infer<typeof AuditResponse>;
