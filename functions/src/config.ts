import { z } from 'zod';
import type { DatabaseConfig } from '#adapters/database.ts';

/**
 * The functions' configuration, read once per container at module scope.
 * Fails fast, naming every missing or malformed variable; never echoes values.
 */
const Env = z.object({
  /** PostgreSQL over the wire (local, tests). In AWS the three DB_* variables select the Data API instead. */
  DATABASE_URL: z.string().url().optional(),
  /** The Aurora cluster, its credentials' secret and the database, for the RDS Data API. */
  DB_CLUSTER_ARN: z.string().startsWith('arn:').optional(),
  DB_SECRET_ARN: z.string().startsWith('arn:').optional(),
  DB_NAME: z.string().min(1).optional(),
  /** A local Data API endpoint (infra/local/data-api); unset in AWS. */
  DATA_API_ENDPOINT: z.string().url().optional(),
  /**
   * How long a statement waits for a paused (0 ACU) Aurora cluster to resume before the function answers
   * `503 unavailable` with `Retry-After` (the client retries). 0 for request paths; the migrator and the
   * retention job wait. Data API only.
   */
  DB_RESUME_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(0),
  /** Unset: the in-process connection registry (local, single process only; refused in Lambda). */
  REDIS_URL: z.string().url().optional(),
  /** `true` in AWS: ElastiCache Serverless speaks the cluster protocol (and TLS, with a `rediss://` URL). */
  REDIS_CLUSTER: z.enum(['true', 'false']).default('false'),
  /** Unset: AWS's regional endpoint. Locally: s3rver or LocalStack. */
  S3_ENDPOINT: z.string().url().optional(),
  /** The resources below are set only for the functions that use them (each client checks its own). */
  ATTACHMENTS_BUCKET: z.string().min(3).optional(),
  /** Unset: AWS's regional endpoint. Locally: dynalite or LocalStack. */
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  RATE_LIMIT_TABLE: z.string().min(3).optional(),
  AUDIT_TABLE: z.string().min(3).optional(),
  /** The @connections endpoint: https://{api-id}.execute-api.{region}.amazonaws.com/{stage} in AWS. */
  WS_MANAGEMENT_ENDPOINT: z.string().url().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  /** Set by the Lambda runtime: what must be there in AWS is refused when missing rather than replaced locally. */
  AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
  /** Comma-separated origins the SPA is served from (CORS). */
  ALLOWED_ORIGINS: z.string().default('http://localhost:5173'),
  HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  /** The JWT signing key itself (local): at least 32 bytes of randomness, e.g. 43+ base64url characters. */
  JWT_SECRET: z.string().min(32).optional(),
  /** In AWS instead: the Secrets Manager secret holding the key (SecretString), read once per container. */
  JWT_SECRET_ARN: z.string().startsWith('arn:').optional(),
  JWT_ISSUER: z.string().min(1).default('ciphertalk'),
  JWT_AUDIENCE: z.string().min(1).default('ciphertalk-api'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(3600)
    .default(30 * 24 * 3600),
  /** A session ends this long after login however often it is refreshed. */
  SESSION_MAX_AGE_SECONDS: z.coerce
    .number()
    .int()
    .min(3600)
    .default(90 * 24 * 3600),
  /**
   * `ses` in AWS; `outbox` writes each mail as a file into MAIL_OUTBOX_DIR (npm start, tests); `off` when the
   * deployment names no sender (`ciphertalk:mailFrom` unset): password resets are then switched off.
   */
  MAILER: z.enum(['ses', 'outbox', 'off']).default('ses'),
  MAIL_OUTBOX_DIR: z.string().min(1).optional(),
  /** The sender of account mail: an SES-verified identity in AWS (required with MAILER=ses). */
  MAIL_FROM: z.string().min(3).optional(),
  /** The SPA's public address, for links in mail; defaults to the first of ALLOWED_ORIGINS. */
  APP_URL: z.string().url().optional(),
  /** Proxies in front of API Gateway that append to X-Forwarded-For: 1 behind CloudFront, 0 otherwise. */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
  /**
   * Multiplies every rate limit (tests and benchmarks that create many users from one address). Refused above
   * 1 inside Lambda (see `parseConfig`): a deployment always runs the real limits.
   */
  RATE_LIMIT_MULTIPLIER: z.coerce.number().positive().default(1),
  /**
   * Days the server keeps what a device has not acknowledged (its ciphertext), and acknowledgement markers;
   * the retention sweep deletes older deliveries and sender-key ciphertexts.
   */
  MESSAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** The largest attachment (its ciphertext), in bytes. */
  ATTACHMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(100 * 1024 * 1024),
  /** What one user's attachments may add up to, in bytes. */
  ATTACHMENT_QUOTA_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 ** 3),
  /** Comma-separated STUN URLs handed to callers (e.g. `stun:stun.example.com:3478`); none by default. */
  STUN_URLS: z.string().default(''),
  /** Comma-separated TURN URLs (`turn:` / `turns:`); with a shared secret, callers get short-lived credentials. */
  TURN_URLS: z.string().default(''),
  /** The TURN server's REST-API shared secret (coturn `static-auth-secret`) itself: locally only. */
  TURN_SECRET: z.string().min(16).optional(),
  /** In AWS instead: the Secrets Manager secret holding it (SecretString), read once per container. */
  TURN_SECRET_ARN: z.string().startsWith('arn:').optional(),
  TURN_CREDENTIAL_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  /** Path of the refresh cookie: the API's `/auth` prefix as the browser sees it. */
  REFRESH_COOKIE_PATH: z.string().startsWith('/').default('/auth'),
});

export type Config = ReturnType<typeof parseConfig>;

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export function parseConfig(env: Record<string, string | undefined>) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
    throw new Error(`Invalid configuration: set ${names.join(', ')} (see README, "Configuration")`);
  }
  const e = parsed.data;
  const allowedOrigins = e.ALLOWED_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  const database = databaseConfig(e);
  if (e.MAILER === 'outbox' && !e.MAIL_OUTBOX_DIR) {
    throw new Error('Invalid configuration: set MAIL_OUTBOX_DIR (MAILER is outbox; see README, "Configuration")');
  }
  if (e.JWT_SECRET && e.JWT_SECRET_ARN) {
    throw new Error(
      'Invalid configuration: set exactly one of JWT_SECRET, JWT_SECRET_ARN (see README, "Configuration")',
    );
  }
  if (e.RATE_LIMIT_MULTIPLIER > 1 && e.AWS_LAMBDA_FUNCTION_NAME) {
    throw new Error(
      'Invalid configuration: RATE_LIMIT_MULTIPLIER loosens every rate limit and is for the local twin only; unset it (see README, "Rate limits")',
    );
  }
  return {
    database,
    databaseResumeWaitMs: e.DB_RESUME_WAIT_MS,
    redisUrl: e.REDIS_URL,
    redisCluster: e.REDIS_CLUSTER === 'true',
    region: e.AWS_REGION,
    inLambda: e.AWS_LAMBDA_FUNCTION_NAME !== undefined,
    s3: { endpoint: e.S3_ENDPOINT, attachmentsBucket: e.ATTACHMENTS_BUCKET },
    dynamodb: { endpoint: e.DYNAMODB_ENDPOINT, rateLimitTable: e.RATE_LIMIT_TABLE, auditTable: e.AUDIT_TABLE },
    wsManagementEndpoint: e.WS_MANAGEMENT_ENDPOINT,
    allowedOrigins,
    healthCheckTimeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
    jwt: {
      secret: e.JWT_SECRET,
      secretArn: e.JWT_SECRET_ARN,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    },
    rateLimitMultiplier: e.RATE_LIMIT_MULTIPLIER,
    trustedProxyHops: e.TRUSTED_PROXY_HOPS,
    messageRetentionDays: e.MESSAGE_RETENTION_DAYS,
    attachments: { maxBytes: e.ATTACHMENT_MAX_BYTES, quotaBytes: e.ATTACHMENT_QUOTA_BYTES },
    ice: {
      stunUrls: list(e.STUN_URLS),
      turnUrls: list(e.TURN_URLS),
      turnSecret: e.TURN_SECRET,
      turnSecretArn: e.TURN_SECRET_ARN,
      ttlSeconds: e.TURN_CREDENTIAL_TTL_SECONDS,
    },
    mail: {
      mailer: e.MAILER,
      outboxDir: e.MAIL_OUTBOX_DIR,
      from: e.MAIL_FROM,
      appUrl: e.APP_URL ?? allowedOrigins[0] ?? 'http://localhost:5173',
    },
    sessions: {
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
      maxAgeSeconds: e.SESSION_MAX_AGE_SECONDS,
      refreshCookiePath: e.REFRESH_COOKIE_PATH,
    },
  } as const;
}

/**
 * A setting only some functions have (a table, the bucket, the database): the client that needs it calls
 * this when its module loads, so a function deployed without it fails at its first cold start, naming it.
 */
export function required<T>(value: T | undefined, names: string): T {
  if (value === undefined) throw new Error(`Invalid configuration: set ${names} (see README, "Configuration")`);
  return value;
}

/** The Data API when any DB_* variable is set (then all three are required), else DATABASE_URL, else none. */
function databaseConfig(e: z.infer<typeof Env>): DatabaseConfig | undefined {
  if (e.DB_CLUSTER_ARN || e.DB_SECRET_ARN || e.DB_NAME) {
    const missing = (['DB_CLUSTER_ARN', 'DB_SECRET_ARN', 'DB_NAME'] as const).filter((name) => !e[name]);
    if (missing.length > 0)
      throw new Error(`Invalid configuration: set ${missing.join(', ')} (see README, "Configuration")`);
    return {
      driver: 'data-api',
      resourceArn: e.DB_CLUSTER_ARN ?? '',
      secretArn: e.DB_SECRET_ARN ?? '',
      database: e.DB_NAME ?? '',
      endpoint: e.DATA_API_ENDPOINT,
    };
  }
  return e.DATABASE_URL ? { driver: 'postgres', url: e.DATABASE_URL } : undefined;
}

export const config = parseConfig(process.env);
