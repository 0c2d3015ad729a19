import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const functionsDir = join(repoRoot, 'functions');
/** One module per client: what a function imports from here is what it is granted. */
export const clientsDir = join(functionsDir, 'src', 'adapters', 'clients');

/**
 * What a function may touch. The stack grants exactly this and nothing else, each through the construct
 * that owns the resource (`data.grantDatabase(fn)`...), which adds the IAM statement and the environment
 * variable naming the resource together.
 */
export interface FunctionAccess {
  /** The Data API on the cluster and its secret (`data.grantDatabase`). */
  readonly database?: true;
  /** Redis: VPC placement, the cache's security group, REDIS_URL (`data.grantRedis`). */
  readonly redis?: true;
  /** execute-api:ManageConnections on the stage's @connections (`realtime.grantManageConnections`). */
  readonly manageConnections?: true;
  /** Get, Put, PutTagging and Delete on `attachments/*` (`data.grantAttachmentObjects`). */
  readonly attachmentObjects?: true;
  /** HeadBucket (s3:ListBucket) and DescribeTable on the rate-limit table: the health check (`data.grantHealthProbes`). */
  readonly healthProbes?: true;
  /** UpdateItem and GetItem on the rate-limit table: the sliding windows' counters (`data.grantRateLimiter`). */
  readonly rateLimiter?: true;
  /** PutItem and Query on the audit table, which is append-only (`data.grantAuditLog`). */
  readonly auditLog?: true;
  /** GetSecretValue on the JWT signing key (`data.grantJwtKey`). */
  readonly jwtKey?: true;
  /** ses:SendEmail from the configured sender identity (`mail.grantSend`), when the deployment names one. */
  readonly sendMail?: true;
  /** GetSecretValue on the TURN shared secret, when the deployment names one. */
  readonly turnSecret?: true;
}

/**
 * Each module of functions/src/adapters/clients/ and the access it implies. A function gets the union over
 * the client modules its import graph reaches, so a handler that starts using a client gets its grant in
 * the same change, and a handler that does not import one neither loads nor is granted it.
 */
export const clientAccess: Readonly<Record<string, FunctionAccess>> = {
  db: { database: true },
  'connection-registry': { redis: true },
  'connections-api': { manageConnections: true },
  'object-store': { attachmentObjects: true },
  'health-probes': { healthProbes: true },
  'rate-limiter': { rateLimiter: true },
  // The real-time limits count in Redis (in-process counters without it).
  'realtime-limiter': { redis: true },
  redis: { redis: true },
  'audit-log': { auditLog: true },
  'access-tokens': { jwtKey: true },
  mailer: { sendMail: true },
  'turn-secret': { turnSecret: true },
  // Composed of the above, or no AWS resource behind them.
  realtime: {},
  messaging: {},
  dynamodb: {},
  passwords: {},
  once: {},
};

/** The client modules on disk; a test checks the mapping knows each. */
export function clientModules(): string[] {
  return readdirSync(clientsDir)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => basename(file, '.ts'));
}

/**
 * Settings (not resources) a function's code reads, by the `config.<key>` it reads them through, and the
 * variables the stack sets for them. A function whose code does not read one does not get it.
 */
export const settingVariables: Readonly<Record<string, readonly string[]>> = {
  allowedOrigins: ['ALLOWED_ORIGINS'],
  trustedProxyHops: ['TRUSTED_PROXY_HOPS'],
  sessions: ['REFRESH_COOKIE_PATH'],
  messageRetentionDays: ['MESSAGE_RETENTION_DAYS'],
  ice: ['STUN_URLS', 'TURN_URLS'],
  databaseResumeWaitMs: ['DB_RESUME_WAIT_MS'],
};

/** Packages with native code: not bundled but copied, with their prebuilt linux-arm64 binaries, next to the bundle. */
export const nativePackages: Readonly<Record<string, readonly string[]>> = {
  argon2: ['argon2', '@phc/format', 'node-gyp-build'],
};

export interface ImportScan {
  /** The client modules (functions/src/adapters/clients/<name>.ts) in the function's import graph. */
  readonly clients: ReadonlySet<string>;
  /** Bare package specifiers reached (`pg`, `argon2`, `@aws-sdk/client-s3`...). */
  readonly packages: ReadonlySet<string>;
  /** `config.<key>` read anywhere in the graph. */
  readonly settings: ReadonlySet<string>;
}

const importPattern = /(?:import|export)\s+(type\s+)?(?:([\w*\s{},]*?)\s+from\s+)?['"]([^'"]+)['"]/g;

/**
 * Follows a handler's value imports through functions/src (package `imports` and relative paths).
 * `aroundClients`: do not enter the client modules, to see what a handler reaches without them.
 */
export function scanImports(functionName: string, options: { aroundClients?: boolean } = {}): ImportScan {
  const clients = new Set<string>();
  const packages = new Set<string>();
  const settings = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    if (dirname(file) === clientsDir) {
      clients.add(basename(file, '.ts'));
      if (options.aroundClients) return;
    }
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/\bconfig\.(\w+)/g)) settings.add(match[1] ?? '');
    for (const match of source.matchAll(importPattern)) {
      const [, typeOnly, names = '', specifier = ''] = match;
      // `import type` and imports of types only are erased by esbuild: they load nothing.
      if (
        typeOnly ||
        (names.startsWith('{') &&
          names
            .replace(/[{}\s]/g, '')
            .split(',')
            .every((n) => n.startsWith('type')))
      ) {
        continue;
      }
      const target = resolveSpecifier(file, specifier);
      if (target === null) packages.add(packageName(specifier));
      else visit(target);
    }
  };
  visit(handlerEntry(functionName));
  return { clients, packages, settings };
}

export function handlerEntry(functionName: string): string {
  return join(functionsDir, 'src', 'handlers', `${functionName}.ts`);
}

export function deriveAccess(scan: ImportScan): FunctionAccess {
  const access: Record<string, true> = {};
  for (const name of scan.clients) {
    const implied = clientAccess[name];
    if (!implied) throw new Error(`functions/src/adapters/clients/${name}.ts is missing from clientAccess`);
    for (const key of Object.keys(implied)) access[key] = true;
  }
  return access as FunctionAccess;
}

export function accessOf(functionName: string): FunctionAccess {
  return deriveAccess(scanImports(functionName));
}

/** The setting variables a function's code reads (see `settingVariables`). */
export function settingsOf(functionName: string): string[] {
  const { settings } = scanImports(functionName);
  return Object.entries(settingVariables)
    .filter(([key]) => settings.has(key))
    .flatMap(([, names]) => names);
}

function resolveSpecifier(from: string, specifier: string): string | null {
  const src = join(functionsDir, 'src');
  if (specifier === '#config') return join(src, 'config.ts');
  const hashed = /^#(\w+)\/(.+)$/.exec(specifier);
  if (hashed) return join(src, hashed[1] ?? '', hashed[2] ?? '');
  if (specifier.startsWith('.')) return resolve(dirname(from), specifier);
  return null;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}
