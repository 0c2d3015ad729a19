import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const functionsDir = join(repoRoot, 'functions');

/**
 * What a function may touch. The stack grants exactly this and nothing else:
 * table actions, bucket actions, the Data API, secret reads, Redis reachability
 * (VPC placement) and `execute-api:ManageConnections`.
 */
export interface FunctionAccess {
  readonly database?: boolean;
  readonly redis?: boolean;
  /**
   * `head`: HeadBucket only (health check). `objects`: Get, Put, PutTagging and Delete on the attachment
   * objects (`attachments/*`) only: what signing uploads and downloads, checking sizes, tagging and sweeping use.
   */
  readonly attachments?: 'head' | 'objects' | 'readWrite';
  /** `describe`: DescribeTable only (health check); `update`: UpdateItem only (the rate limiter's counters). */
  readonly rateLimits?: 'describe' | 'update' | 'readWrite';
  /** `appendQuery`: PutItem and Query only (the audit log is append-only). */
  readonly audit?: 'appendQuery' | 'readWrite';
  readonly jwtKey?: boolean;
  /** secretsmanager:GetSecretValue on the TURN shared secret (when the deployment names one). */
  readonly turnSecret?: boolean;
  readonly manageConnections?: boolean;
  /** ses:SendEmail from the configured sender identity (account mail: password resets). */
  readonly sendMail?: boolean;
}

/**
 * A function gets what its imports of functions/src/adapters/clients.ts imply
 * (`deriveAccess`), so a handler that starts using a client gets the grant with
 * it. Where a function uses a client for less than the accessor implies, it is
 * narrowed here, with the reason (`false` removes a grant).
 */
export interface Narrowing {
  readonly access: { readonly [K in keyof FunctionAccess]?: FunctionAccess[K] | false };
  readonly reason: string;
}

export const narrowedAccess: Readonly<Record<string, Narrowing>> = {
  health: {
    access: { attachments: 'head', rateLimits: 'describe', audit: false },
    reason: 'one HeadBucket on the attachments bucket and one DescribeTable on the rate-limit table per check',
  },
  wsConnect: {
    access: { manageConnections: false },
    reason: 'lifecycleHandler answers with its return value; only frameHandler (same module) posts to @connections',
  },
};

/** Accessors of functions/src/adapters/clients.ts and the access each one implies. */
const clientAccess: Readonly<Record<string, FunctionAccess>> = {
  db: { database: true },
  redis: { redis: true },
  connectionRegistry: { redis: true },
  s3: { attachments: 'readWrite' },
  objectStore: { attachments: 'objects' },
  dynamodb: { rateLimits: 'readWrite', audit: 'readWrite' },
  connectionsApi: { manageConnections: true },
  realtime: { redis: true, manageConnections: true },
  accessTokens: { jwtKey: true },
  turnSecret: { turnSecret: true },
  auditLog: { audit: 'appendQuery' },
  rateLimiter: { rateLimits: 'update' },
  mailer: { sendMail: true },
  // No AWS resource behind these.
  passwords: {},
};

/** The accessor names the derivation knows; a test checks clients.ts exports no other. */
export const knownClientAccessors: readonly string[] = Object.keys(clientAccess);

/** Packages with native code: not bundled but copied, with their prebuilt linux-arm64 binaries, next to the bundle. */
export const nativePackages: Readonly<Record<string, readonly string[]>> = {
  argon2: ['argon2', '@phc/format', 'node-gyp-build'],
};

export interface ImportScan {
  /** Names imported from clients.ts anywhere in the function's own import graph. */
  readonly clients: ReadonlySet<string>;
  /** Bare package specifiers reached (`pg`, `argon2`, `@aws-sdk/client-s3`...). */
  readonly packages: ReadonlySet<string>;
}

const importPattern = /(?:import|export)\s+(type\s+)?(?:([\w*\s{},]*?)\s+from\s+)?['"]([^'"]+)['"]/g;

/** Follows a handler's imports through functions/src (package `imports` and relative paths). */
export function scanImports(functionName: string): ImportScan {
  const clients = new Set<string>();
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(importPattern)) {
      const [, typeOnly, names = '', specifier = ''] = match;
      if (typeOnly) continue;
      const target = resolveSpecifier(file, specifier);
      if (target === null) {
        packages.add(packageName(specifier));
        continue;
      }
      // A handler that opens its own database connection (migrate) instead of the shared `db` client: same grant.
      if (file === handlerEntry(functionName) && target.endsWith(join('adapters', 'database.ts'))) clients.add('db');
      if (target.endsWith(join('adapters', 'clients.ts'))) {
        for (const name of names.replace(/[{}]/g, '').split(',')) {
          const local = name
            .trim()
            .split(/\s+as\s+/)[0]
            ?.trim();
          if (local && !local.startsWith('type ')) clients.add(local);
        }
      }
      visit(target);
    }
  };
  visit(handlerEntry(functionName));
  return { clients, packages };
}

export function handlerEntry(functionName: string): string {
  return join(functionsDir, 'src', 'handlers', `${functionName}.ts`);
}

/** Access modes from narrowest to broadest: when two accessors grant the same resource, the broader wins. */
const breadth = ['head', 'describe', 'update', 'appendQuery', 'objects', 'readWrite'];

export function deriveAccess(scan: ImportScan): FunctionAccess {
  const access: Record<string, unknown> = {};
  for (const name of scan.clients) {
    for (const [key, mode] of Object.entries(clientAccess[name] ?? {})) {
      const current = access[key];
      if (current === undefined || breadth.indexOf(String(mode)) > breadth.indexOf(String(current))) access[key] = mode;
    }
  }
  return access as FunctionAccess;
}

export function accessOf(functionName: string): FunctionAccess {
  const access: Record<string, unknown> = { ...deriveAccess(scanImports(functionName)) };
  for (const [key, mode] of Object.entries(narrowedAccess[functionName]?.access ?? {})) {
    if (mode === false) delete access[key];
    else access[key] = mode;
  }
  return access as FunctionAccess;
}

/** Whether `mode` grants less than (or the same as) `than`. */
export function isNarrower(mode: unknown, than: unknown): boolean {
  if (mode === false) return true;
  if (mode === true || than === true) return mode === than;
  return breadth.indexOf(String(mode)) <= breadth.indexOf(String(than));
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
