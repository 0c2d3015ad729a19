import { z } from 'zod';

/**
 * The functions' configuration, read once per container at module scope.
 * Fails fast, naming every missing or malformed variable; never echoes values.
 */
const Env = z.object({
  DATABASE_URL: z.string().url(),
  /** Unset: the in-process connection registry (local, single process only). */
  REDIS_URL: z.string().url().optional(),
  /** Unset: AWS's regional endpoint. Locally: s3rver or LocalStack. */
  S3_ENDPOINT: z.string().url().optional(),
  ATTACHMENTS_BUCKET: z.string().min(3),
  /** Unset: AWS's regional endpoint. Locally: dynalite or LocalStack. */
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  RATE_LIMIT_TABLE: z.string().min(3),
  AUDIT_TABLE: z.string().min(3),
  /** The @connections endpoint: https://{api-id}.execute-api.{region}.amazonaws.com/{stage} in AWS. */
  WS_MANAGEMENT_ENDPOINT: z.string().url(),
  AWS_REGION: z.string().default('us-east-1'),
  /** Comma-separated origins the SPA is served from (CORS). */
  ALLOWED_ORIGINS: z.string().default('http://localhost:5173'),
  HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
});

export type Config = ReturnType<typeof parseConfig>;

export function parseConfig(env: Record<string, string | undefined>) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
    throw new Error(`Invalid configuration: set ${names.join(', ')} (see README, "Configuration")`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    region: e.AWS_REGION,
    s3: { endpoint: e.S3_ENDPOINT, attachmentsBucket: e.ATTACHMENTS_BUCKET },
    dynamodb: { endpoint: e.DYNAMODB_ENDPOINT, rateLimitTable: e.RATE_LIMIT_TABLE, auditTable: e.AUDIT_TABLE },
    wsManagementEndpoint: e.WS_MANAGEMENT_ENDPOINT,
    allowedOrigins: e.ALLOWED_ORIGINS.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    healthCheckTimeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
  } as const;
}

export const config = parseConfig(process.env);
