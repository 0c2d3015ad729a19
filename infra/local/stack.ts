import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient, createS3Client } from '@ciphertalk/functions/adapters/aws.ts';
import { createDataApiDb } from '@ciphertalk/functions/adapters/data-api.ts';
import { createPostgresDb } from '@ciphertalk/functions/adapters/postgres.ts';
import { migrate } from '@ciphertalk/functions/migrate';
import { functions, restApi, schedules, webSocketApi } from '@ciphertalk/shared/routes';
import { startDataApiServer } from './data-api/server.ts';
import {
  type HandlerResolver,
  lambdaContext,
  newApiId,
  newRequestId,
  resolveFunctionsPackage,
} from './gateway/lambda.ts';
import { startRestGateway } from './gateway/rest.ts';
import { startWebSocketGateway } from './gateway/websocket.ts';
import { installCallerCredentials, runAsCaller } from './iam/caller.ts';
import { type Authorize, createTwinIam, type TwinIam } from './iam/enforcement.ts';
import { buildIamModel } from './iam/model.ts';
import { loadTemplate, twinStackName } from './iam/template.ts';
import { ensureBucket, ensureTables } from './services/bootstrap.ts';
import { startDynalite } from './services/dynamodb.ts';
import { startPglite } from './services/pglite.ts';
import { startS3rver } from './services/s3.ts';
import { startS3Verifier } from './services/s3-verifier.ts';
import { startWebServer } from './web-server.ts';

export interface LocalStackOptions {
  /** Where embedded services keep data (`.local/`); null keeps everything in memory or temp dirs (tests). */
  readonly dataDir: string | null;
  readonly host?: string;
  readonly ports: { readonly rest: number; readonly ws: number; readonly web: number | null };
  /** The SPA's build output; null serves no SPA. */
  readonly webRoot?: string | null;
  /** DATABASE_URL, REDIS_URL, S3_ENDPOINT, DYNAMODB_ENDPOINT...: a service whose variable is set is used, not embedded. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly resolve?: HandlerResolver;
  readonly webSocket?: { readonly idleTimeoutMs?: number; readonly maxDurationMs?: number };
  readonly log?: (line: Record<string, unknown>) => void;
}

export interface LocalStack {
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly webUrl: string | null;
  readonly managementEndpoint: string;
  /** Where mail goes locally (the dev outbox): one JSON file `{ to, subject, text }` per mail. */
  readonly outboxDir: string;
  /** What each dependency runs on: `embedded (PGlite)` or the URL from the environment. */
  readonly services: Readonly<Record<'database' | 'redis' | 's3' | 'dynamodb', string>>;
  /** The template's IAM as the twin enforces it; null when `TWIN_IAM=off`. */
  readonly iam: TwinIam | null;
  stop(): Promise<void>;
}

/**
 * Everything CipherTalk needs, on one machine: embedded PGlite, s3rver,
 * dynalite and the in-process connection registry unless DATABASE_URL,
 * S3_ENDPOINT, DYNAMODB_ENDPOINT or REDIS_URL name real services; migrations;
 * then the API Gateway twin (REST, WebSocket, @connections) in front of the
 * real handlers, and the SPA.
 *
 * The handlers read their configuration from process.env, as in Lambda, so one
 * process runs one stack.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  // A copy: the functions' variables are written to process.env below, which may be `options.env` itself.
  const env = { ...options.env };
  const { dataDir } = options;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  // The emulators' key (not a secret) and the SPA's origins: the functions and the S3 verifier share them.
  const accessKey = { id: env.AWS_ACCESS_KEY_ID ?? 'S3RVER', secret: env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER' };
  const allowedOrigins = env.ALLOWED_ORIGINS ?? `http://localhost:${options.ports.web ?? 5173}`;
  const region = env.AWS_REGION ?? 'us-east-1';
  const names = {
    ATTACHMENTS_BUCKET: env.ATTACHMENTS_BUCKET ?? 'ciphertalk-attachments-local',
    RATE_LIMIT_TABLE: env.RATE_LIMIT_TABLE ?? 'ciphertalk-rate-limits-local',
    AUDIT_TABLE: env.AUDIT_TABLE ?? 'ciphertalk-audit-local',
  };
  const webSocketApiId = newApiId();
  const iam =
    (env.TWIN_IAM ?? process.env.TWIN_IAM) === 'off' ? null : await twinIam(region, names, webSocketApiId, log);
  const authorize: Authorize = async (request) => {
    const denied = iam ? await iam.authorize(request) : null;
    // A denial here is one AWS would give: the function's role in the template lacks the permission.
    if (denied) log({ level: 'ERROR', message: 'IAM denied the call', denial: denied.message });
    return denied;
  };
  const iamFront = iam ? { authorize, region, accountId: iam.model.accountId } : undefined;
  // Each invocation runs with its function's credentials, so every AWS call it makes is evaluated as that function.
  const baseResolve = options.resolve ?? resolveFunctionsPackage;
  const resolve: HandlerResolver = iam
    ? async (name) => {
        const handler = await baseResolve(name);
        const credentials = iam.credentialsOf(name);
        return (event, context) => runAsCaller(credentials, () => handler(event, context));
      }
    : baseResolve;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const close of stops.reverse()) await close().catch(() => undefined);
  };

  try {
    const [database, s3Endpoint, dynamoEndpoint] = await Promise.all([
      env.DATABASE_URL ??
        startPglite({ dataDir: dataDir && join(dataDir, 'pglite'), port: 0, host }).then((pg) => {
          stops.push(() => pg.close());
          return pg.url;
        }),
      env.S3_ENDPOINT ??
        startS3rver({ dataDir: dataDir && join(dataDir, 's3'), port: 0, host, accessKeys: iam?.secrets }).then(
          async (s3) => {
            stops.push(() => s3.close());
            // s3rver checks no signature, policy or expiry: functions and browsers reach it through a verifier that does.
            const verifier = await startS3Verifier({
              target: s3.endpoint,
              port: 0,
              host,
              credentials: { [accessKey.id]: accessKey.secret, ...iam?.secrets },
              allowedOrigins: allowedOrigins.split(','),
              ...(iam ? { authorize } : {}),
            });
            stops.push(() => verifier.close());
            return verifier.endpoint;
          },
        ),
      env.DYNAMODB_ENDPOINT ??
        startDynalite({ port: 0, host, ...(iamFront ? { iam: iamFront } : {}) }).then((ddb) => {
          stops.push(() => ddb.close());
          return ddb.endpoint;
        }),
    ]);

    // DB_DRIVER=data-api: the functions reach the database as in AWS, through the (local) RDS Data API.
    const dataApi =
      (env.DB_DRIVER ?? process.env.DB_DRIVER) === 'data-api'
        ? await startDataApiServer({
            databaseUrl: database,
            host,
            ...(iam ? { authorize } : {}),
          }).then((server) => {
            stops.push(() => server.close());
            // The cluster and secret ARNs the template's policies name (Data API calls are evaluated on them).
            const migrateEnv = iam?.model.roles.get('migrate')?.environment;
            return {
              ...localDataApiTarget,
              ...(migrateEnv?.DB_CLUSTER_ARN ? { resourceArn: migrateEnv.DB_CLUSTER_ARN } : {}),
              ...(migrateEnv?.DB_SECRET_ARN ? { secretArn: migrateEnv.DB_SECRET_ARN } : {}),
              endpoint: server.endpoint,
              setAutoPause: server.setAutoPause,
            };
          })
        : null;

    const ws = await startWebSocketGateway({
      port: options.ports.ws,
      host,
      routes: webSocketApi.routes,
      resolve,
      apiId: webSocketApiId,
      ...(iamFront ? { iam: iamFront } : {}),
      ...options.webSocket,
      log,
    });
    stops.push(() => ws.close());

    // The dev outbox: password-reset mail lands here as JSON files instead of being sent.
    const outboxDir = dataDir ? join(dataDir, 'outbox') : await mkdtemp(join(tmpdir(), 'ciphertalk-outbox-'));
    if (!dataDir) stops.push(() => rm(outboxDir, { recursive: true, force: true }));
    const functionEnv = {
      AWS_REGION: region,
      // s3rver insists on its own key id; the S3 verifier in front of it checks signatures with this pair.
      AWS_ACCESS_KEY_ID: accessKey.id,
      AWS_SECRET_ACCESS_KEY: accessKey.secret,
      DATABASE_URL: dataApi ? undefined : database,
      DB_CLUSTER_ARN: dataApi?.resourceArn,
      DB_SECRET_ARN: dataApi?.secretArn,
      DB_NAME: dataApi?.database,
      DATA_API_ENDPOINT: dataApi?.endpoint,
      REDIS_URL: env.REDIS_URL,
      S3_ENDPOINT: s3Endpoint,
      ATTACHMENTS_BUCKET: names.ATTACHMENTS_BUCKET,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      RATE_LIMIT_TABLE: names.RATE_LIMIT_TABLE,
      AUDIT_TABLE: names.AUDIT_TABLE,
      WS_MANAGEMENT_ENDPOINT: ws.managementEndpoint,
      ALLOWED_ORIGINS: allowedOrigins,
      POWERTOOLS_METRICS_DISABLED: env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL ?? env.LOG_LEVEL ?? 'WARN',
      JWT_SECRET: env.JWT_SECRET ?? (await localJwtSecret(dataDir)),
      ACCESS_TOKEN_TTL_SECONDS: env.ACCESS_TOKEN_TTL_SECONDS,
      REFRESH_COOKIE_PATH: env.REFRESH_COOKIE_PATH,
      RATE_LIMIT_MULTIPLIER: env.RATE_LIMIT_MULTIPLIER,
      MESSAGE_RETENTION_DAYS: env.MESSAGE_RETENTION_DAYS,
      ATTACHMENT_MAX_BYTES: env.ATTACHMENT_MAX_BYTES,
      ATTACHMENT_QUOTA_BYTES: env.ATTACHMENT_QUOTA_BYTES,
      STUN_URLS: env.STUN_URLS,
      TURN_URLS: env.TURN_URLS,
      TURN_SECRET: env.TURN_SECRET,
      TURN_CREDENTIAL_TTL_SECONDS: env.TURN_CREDENTIAL_TTL_SECONDS,
      MAILER: 'outbox',
      MAIL_OUTBOX_DIR: outboxDir,
      APP_URL: env.APP_URL,
    };
    for (const [name, value] of Object.entries(functionEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }

    const migrations = dataApi
      ? createDataApiDb({
          resourceArn: dataApi.resourceArn,
          secretArn: dataApi.secretArn,
          database: dataApi.database,
          endpoint: dataApi.endpoint,
          region: functionEnv.AWS_REGION,
          resumeWaitMs: 60_000,
        })
      : createPostgresDb(database, { max: 1 });
    try {
      // In AWS the migrate function applies them (a CDK trigger), with its role.
      const applied = await runAsCaller(iam?.credentialsOf('migrate') ?? null, () => migrate(migrations));
      log({ level: 'INFO', message: 'migrations applied', applied, driver: dataApi ? 'data-api' : 'postgres' });
    } finally {
      await migrations.close();
    }
    // The cluster was up for the migrations (as for the deploy's trigger); from now on it may pause when idle.
    dataApi?.setAutoPause(autoPauseOf(env));
    const s3 = createS3Client(functionEnv.AWS_REGION, s3Endpoint);
    const dynamodb: DynamoDBClient = createDynamoDbClient(functionEnv.AWS_REGION, dynamoEndpoint);
    try {
      await Promise.all([
        ensureBucket(s3, functionEnv.ATTACHMENTS_BUCKET),
        ensureTables(dynamodb, { rateLimits: functionEnv.RATE_LIMIT_TABLE, audit: functionEnv.AUDIT_TABLE }),
      ]);
    } finally {
      s3.destroy();
      dynamodb.destroy();
    }

    // Scheduled jobs (EventBridge rules in AWS): a timer each, which does not keep the process alive.
    for (const job of schedules) {
      const run = async () => {
        try {
          const handler = await resolve(job.function);
          const timeoutMs = functions[job.function].timeoutSeconds * 1000;
          const result = await handler(
            { source: 'aws.events', 'detail-type': 'Scheduled Event' },
            lambdaContext(job.function, newRequestId(), timeoutMs),
          );
          log({ level: 'INFO', message: 'scheduled job ran', function: job.function, result });
        } catch (error) {
          log({ level: 'ERROR', message: 'scheduled job failed', function: job.function, error: String(error) });
        }
      };
      const timer = setInterval(run, job.everyMinutes * 60_000);
      timer.unref();
      stops.push(async () => clearInterval(timer));
    }

    const rest = await startRestGateway({
      port: options.ports.rest,
      host,
      routes: restApi.routes,
      authorizer: restApi.authorizer,
      resolve,
      binaryMediaTypes: restApi.binaryMediaTypes,
      maxBodyBytes: restApi.maxBodyBytes,
      integrationTimeoutSeconds: restApi.integrationTimeoutSeconds,
      allowedOrigins: functionEnv.ALLOWED_ORIGINS.split(','),
      log,
    });
    stops.push(() => rest.close());
    const restUrl = publicUrl(rest.url);
    // Browsers and cookies know the machine as localhost; the path carries the stage, as in AWS.
    const wsUrl = publicUrl(ws.url);

    let webUrl: string | null = null;
    if (options.ports.web !== null && options.webRoot) {
      const web = await startWebServer({
        port: options.ports.web,
        host,
        root: options.webRoot,
        runtimeConfig: { apiUrl: restUrl, wsUrl },
        objectStoreUrl: s3Endpoint,
      });
      stops.push(() => web.close());
      webUrl = web.url;
    }

    return {
      restUrl,
      wsUrl,
      webUrl,
      managementEndpoint: ws.managementEndpoint,
      outboxDir,
      services: {
        database: env.DATABASE_URL ? redact(env.DATABASE_URL) : 'embedded PGlite',
        redis: env.REDIS_URL ? redact(env.REDIS_URL) : 'in-process registry',
        s3: env.S3_ENDPOINT ?? 'embedded s3rver behind a SigV4 verifier',
        dynamodb: env.DYNAMODB_ENDPOINT ?? 'embedded dynalite',
      },
      iam,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The deployed IAM, enforced locally: each function's role policies from the synthesized template (cached),
 * resolved to this stack's names (account 000000000000, the region, the bucket and tables, the WebSocket
 * API's id), and a credential per function.
 */
async function twinIam(
  region: string,
  names: Readonly<Record<string, string>>,
  webSocketApiId: string,
  log: (line: Record<string, unknown>) => void,
): Promise<TwinIam> {
  installCallerCredentials();
  const synthesized = await loadTemplate({ log });
  const model = buildIamModel(synthesized, {
    accountId: twinAccountId,
    region,
    stackName: twinStackName,
    environment: names,
    physicalIdsByType: { 'AWS::ApiGatewayV2::Api': webSocketApiId },
  });
  return createTwinIam(model, Object.keys(synthesized.functions));
}

const twinAccountId = '000000000000';

/** `DATA_API_PAUSE_AFTER_IDLE_MS` (and `DATA_API_RESUME_MS`, default 15 s): the local Aurora pauses when idle. */
function autoPauseOf(env: Readonly<Record<string, string | undefined>>) {
  const idle = env.DATA_API_PAUSE_AFTER_IDLE_MS;
  if (idle === undefined || idle === '') return null;
  const idleMs = Number(idle);
  const resumeMs = Number(env.DATA_API_RESUME_MS ?? 15_000);
  if (!Number.isFinite(idleMs) || idleMs < 0 || !Number.isFinite(resumeMs) || resumeMs < 0) {
    throw new Error('DATA_API_PAUSE_AFTER_IDLE_MS and DATA_API_RESUME_MS must be non-negative numbers of milliseconds');
  }
  return { idleMs, resumeMs };
}

/**
 * The local JWT signing key: kept in `<dataDir>/jwt-secret` (mode 0600, created on first start) so tokens
 * survive a restart; a fresh random key per stack when there is no data dir (tests).
 */
async function localJwtSecret(dataDir: string | null): Promise<string> {
  const fresh = randomBytes(32).toString('base64url');
  if (dataDir === null) return fresh;
  const file = join(dataDir, 'jwt-secret');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${fresh}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return fresh;
}

function publicUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.hostname === '127.0.0.1') parsed.hostname = 'localhost';
  return parsed.toString().replace(/\/$/, '');
}

/** What the local Data API answers to: any ARNs do; these name the emulation in logs. */
const localDataApiTarget = {
  resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:ciphertalk-local',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:ciphertalk-local',
  database: 'ciphertalk',
};

/** A URL without its password, for printing. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
