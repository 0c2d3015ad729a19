import { z } from 'zod';

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
  type: z.string(),
  at: z.iso.datetime(),
  sourceIp: z.string(),
  userAgent: z.string(),
  sessionId: z.string().nullable(),
  deviceId: z.number().int().nullable(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditResponse = z.object({ events: z.array(AuditEntry), nextCursor: z.string().nullable() });
export type AuditResponse = z.infer<typeof AuditResponse>;
