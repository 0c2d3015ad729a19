import type { Node } from 'constructs';

/**
 * The deployment's settings: typed props for the stack, read from `cdk.json`
 * context (`ciphertalk:*` keys, overridable with `cdk deploy -c ciphertalk:envName=staging`).
 */
export interface CipherTalkConfig {
  /** Names the stack (`CipherTalk-<envName>`) and tags every resource. */
  readonly envName: string;
  /** Serve the SPA under a custom domain; the certificate must be in us-east-1 (CloudFront). */
  readonly domain?: { readonly name: string; readonly certificateArn: string };
  /** CloudWatch Logs retention of every log group the stack creates, in days: one of `logRetentionValues`. */
  readonly logRetentionDays: number;
  /** Days undelivered ciphertext and delivery markers are kept (MESSAGE_RETENTION_DAYS of the functions). */
  readonly messageRetentionDays: number;
  readonly database: {
    /** Aurora Serverless v2 ACUs; 0 lets the cluster pause when idle (PostgreSQL 16.3+). */
    readonly minCapacity: number;
    readonly maxCapacity: number;
    readonly deletionProtection: boolean;
    readonly backupRetentionDays: number;
    /**
     * Aurora PostgreSQL engine version. Aurora retires ordinary minor versions after about a year; the
     * default is PostgreSQL 16's long-term-support minor. Check what a region offers with
     * `aws rds describe-db-engine-versions --engine aurora-postgresql --query 'DBEngineVersions[].EngineVersion'`.
     */
    readonly engineVersion: string;
  };
  /** Origins besides the site's own that may call the APIs and upload attachments (e.g. a staging SPA). */
  readonly allowedOrigins: readonly string[];
  readonly network: {
    readonly maxAzs: number;
    /** NAT gateways for the VPC functions' egress to the Data API and @connections (see README). */
    readonly natGateways: number;
  };
  readonly api: { readonly throttleRateLimit: number; readonly throttleBurstLimit: number };
  /**
   * The Secrets Manager version id of the REST API's origin key to deploy (rotation: put a new value, then
   * deploy with its version id). Unset: the current version.
   */
  readonly originKeyVersion?: string;
  /** Alarm notifications go to this address when set (an SNS topic is created either way). */
  readonly alarmEmail?: string;
  /** Sender of account mail (`Name <address>`): an SES identity verified in the account. */
  readonly mailFrom?: string;
  /** WebRTC: STUN and TURN URLs handed to callers, and the Secrets Manager ARN of the TURN shared secret. */
  readonly calls: {
    readonly stunUrls: readonly string[];
    readonly turnUrls: readonly string[];
    readonly turnSecretArn?: string;
  };
}

export const defaults: CipherTalkConfig = {
  envName: 'prod',
  logRetentionDays: 30,
  messageRetentionDays: 30,
  database: { minCapacity: 0, maxCapacity: 4, deletionProtection: true, backupRetentionDays: 7, engineVersion: '16.8' },
  allowedOrigins: [],
  network: { maxAzs: 2, natGateways: 1 },
  api: { throttleRateLimit: 100, throttleBurstLimit: 200 },
  calls: { stunUrls: [], turnUrls: [] },
};

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy refuses any other), in days. */
export const logRetentionValues = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Reads `ciphertalk:*` context over the defaults; fails naming the key whose value is unusable. */
export function readConfig(node: Node): CipherTalkConfig {
  const raw = (key: string): unknown => node.tryGetContext(`ciphertalk:${key}`);
  const str = (key: string): string | undefined => {
    const value = raw(key);
    if (value === undefined || value === null || value === '') return undefined;
    return String(value);
  };
  const num = (key: string, fallback: number, min: number, max: number): number => {
    const value = raw(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`ciphertalk:${key} must be a number in [${min}, ${max}]`);
    return n;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = raw(key);
    if (value === undefined) return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new Error(`ciphertalk:${key} must be true or false`);
  };

  const envName = str('envName') ?? defaults.envName;
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(envName)) throw new Error('ciphertalk:envName must match ^[a-z][a-z0-9-]{0,19}$');
  // The API's stage path on the site (/<envName>/*) must not shadow the SPA's own files.
  if (envName === 'assets') throw new Error('ciphertalk:envName cannot be "assets" (the SPA serves /assets/*)');
  const domainName = str('domainName');
  const certificateArn = str('certificateArn');
  if (!domainName !== !certificateArn)
    throw new Error('ciphertalk:domainName and ciphertalk:certificateArn go together');
  const minCapacity = num('dbMinCapacity', defaults.database.minCapacity, 0, 256);
  const maxCapacity = num('dbMaxCapacity', defaults.database.maxCapacity, 1, 256);
  if (maxCapacity < minCapacity) throw new Error('ciphertalk:dbMaxCapacity must be at least ciphertalk:dbMinCapacity');
  const allowedOrigins = (str('allowedOrigins') ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of allowedOrigins) {
    if (!/^https:\/\/[^/]+$/.test(origin))
      throw new Error(`ciphertalk:allowedOrigins: "${origin}" is not an https origin`);
  }
  const urls = (key: string, schemes: RegExp) => {
    const list = (str(key) ?? '')
      .split(',')
      .map((url) => url.trim())
      .filter(Boolean);
    for (const url of list) if (!schemes.test(url)) throw new Error(`ciphertalk:${key}: "${url}" is not a ${schemes}`);
    return list;
  };
  const turnSecretArn = str('turnSecretArn');
  if (turnSecretArn && !turnSecretArn.startsWith('arn:')) throw new Error('ciphertalk:turnSecretArn must be an ARN');
  const calls = {
    stunUrls: urls('stunUrls', /^stuns?:/),
    turnUrls: urls('turnUrls', /^turns?:/),
    ...(turnSecretArn ? { turnSecretArn } : {}),
  };
  const logRetentionDays = num('logRetentionDays', defaults.logRetentionDays, 1, 3653);
  if (!(logRetentionValues as readonly number[]).includes(logRetentionDays)) {
    throw new Error(`ciphertalk:logRetentionDays must be one of CloudWatch's values: ${logRetentionValues.join(', ')}`);
  }
  const engineVersion = str('auroraPostgresVersion') ?? defaults.database.engineVersion;
  const engine = /^(\d+)\.(\d+)$/.exec(engineVersion);
  // Serverless v2 pausing at 0 ACU and the Data API need PostgreSQL 16.3+ (or later majors).
  if (!engine || Number(engine[1]) < 16 || (Number(engine[1]) === 16 && Number(engine[2]) < 3)) {
    throw new Error('ciphertalk:auroraPostgresVersion must be an Aurora PostgreSQL version 16.3 or later, like 16.8');
  }
  const originKeyVersion = str('originKeyVersion');
  const alarmEmail = str('alarmEmail');
  const mailFrom = str('mailFrom');
  if (mailFrom && !/@[^@\s>]+\.[^@\s>]+>?$/.test(mailFrom))
    throw new Error('ciphertalk:mailFrom must end with an address');

  return {
    envName,
    ...(domainName && certificateArn ? { domain: { name: domainName, certificateArn } } : {}),
    logRetentionDays,
    messageRetentionDays: num('messageRetentionDays', defaults.messageRetentionDays, 1, 3650),
    database: {
      minCapacity,
      maxCapacity,
      deletionProtection: bool('deletionProtection', defaults.database.deletionProtection),
      backupRetentionDays: num('backupRetentionDays', defaults.database.backupRetentionDays, 1, 35),
      engineVersion,
    },
    allowedOrigins,
    network: {
      maxAzs: num('maxAzs', defaults.network.maxAzs, 2, 6),
      natGateways: num('natGateways', defaults.network.natGateways, 1, 6),
    },
    api: {
      throttleRateLimit: num('apiRateLimit', defaults.api.throttleRateLimit, 1, 10_000),
      throttleBurstLimit: num('apiBurstLimit', defaults.api.throttleBurstLimit, 1, 5_000),
    },
    ...(originKeyVersion ? { originKeyVersion } : {}),
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(mailFrom ? { mailFrom } : {}),
    calls,
  };
}
