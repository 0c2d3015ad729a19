import { beforeAll, describe, expect, it } from 'vitest';
import { migrateFunctionName } from '../../lib/ciphertalk-stack.ts';
import { clientAccess, clientModules, type FunctionAccess, scanImports } from '../../lib/function-access.ts';
import { resources, type Synthesized, synthCipherTalk } from './synth.ts';

/**
 * Each function gets exactly the permissions, environment variables and VPC placement its code needs
 * (issue 13, findings 1 and 10). The table below is written by hand from what each handler does, so a
 * change to a handler's clients shows here as a failing row, and a grant the code does not need fails too.
 */
let s: Synthesized;
beforeAll(() => {
  s = synthCipherTalk();
});

type Access = keyof FunctionAccess;
const expected: Readonly<Record<string, readonly Access[]>> = {
  health: ['database', 'redis', 'healthProbes'],
  wsConnect: ['redis'],
  wsDisconnect: ['database', 'redis', 'manageConnections'],
  wsDefault: ['manageConnections'],
  wsPing: ['manageConnections'],
  realtime: ['database', 'redis', 'manageConnections', 'attachmentObjects'],
  auth: ['database', 'jwtKey', 'auditLog', 'rateLimiter', 'redis', 'manageConnections', 'sendMail'],
  authorizer: ['database', 'jwtKey'],
  devices: ['database', 'auditLog', 'rateLimiter', 'redis', 'manageConnections'],
  openapi: [],
  users: ['database', 'rateLimiter'],
  conversations: ['database', 'attachmentObjects', 'rateLimiter', 'redis', 'manageConnections'],
  attachments: ['database', 'attachmentObjects', 'rateLimiter'],
  calls: ['turnSecret'],
  retention: ['database', 'attachmentObjects'],
  me: ['database', 'auditLog', 'rateLimiter', 'redis', 'manageConnections'],
  [migrateFunctionName]: ['database'],
};

/** What each access is in IAM (`action on resource`), and the variables naming the resource. */
const iamOf: Readonly<Record<Access, readonly string[]>> = {
  database: [
    'rds-data:BatchExecuteStatement on cluster',
    'rds-data:BeginTransaction on cluster',
    'rds-data:CommitTransaction on cluster',
    'rds-data:ExecuteStatement on cluster',
    'rds-data:RollbackTransaction on cluster',
    'secretsmanager:DescribeSecret on db-secret',
    'secretsmanager:GetSecretValue on db-secret',
  ],
  redis: [],
  manageConnections: ['execute-api:ManageConnections on @connections'],
  attachmentObjects: [
    's3:DeleteObject on attachments/*',
    's3:GetObject on attachments/*',
    's3:PutObject on attachments/*',
    's3:PutObjectTagging on attachments/*',
  ],
  healthProbes: ['s3:ListBucket on bucket', 'dynamodb:DescribeTable on rate-limits'],
  rateLimiter: ['dynamodb:GetItem on rate-limits', 'dynamodb:UpdateItem on rate-limits'],
  auditLog: ['dynamodb:PutItem on audit', 'dynamodb:Query on audit'],
  jwtKey: ['secretsmanager:DescribeSecret on jwt-key', 'secretsmanager:GetSecretValue on jwt-key'],
  sendMail: ['ses:SendEmail on ses-identity'],
  turnSecret: ['secretsmanager:GetSecretValue on turn-secret'],
};
const variablesOf: Readonly<Record<Access, readonly string[]>> = {
  database: ['DB_CLUSTER_ARN', 'DB_SECRET_ARN', 'DB_NAME'],
  redis: ['REDIS_URL', 'REDIS_CLUSTER'],
  manageConnections: ['WS_MANAGEMENT_ENDPOINT'],
  attachmentObjects: ['ATTACHMENTS_BUCKET'],
  healthProbes: ['ATTACHMENTS_BUCKET', 'RATE_LIMIT_TABLE'],
  rateLimiter: ['RATE_LIMIT_TABLE'],
  auditLog: ['AUDIT_TABLE'],
  jwtKey: ['JWT_SECRET_ARN'],
  sendMail: ['MAILER', 'MAIL_FROM'],
  turnSecret: ['TURN_SECRET_ARN'],
};
/** Settings (no resource behind them), by function. */
const settingsOf: Readonly<Record<string, readonly string[]>> = {
  auth: ['ALLOWED_ORIGINS', 'TRUSTED_PROXY_HOPS', 'REFRESH_COOKIE_PATH'],
  me: ['ALLOWED_ORIGINS', 'TRUSTED_PROXY_HOPS'],
  devices: ['ALLOWED_ORIGINS', 'TRUSTED_PROXY_HOPS'],
  health: ['ALLOWED_ORIGINS'],
  openapi: ['ALLOWED_ORIGINS'],
  users: ['ALLOWED_ORIGINS'],
  conversations: ['ALLOWED_ORIGINS'],
  attachments: ['ALLOWED_ORIGINS'],
  calls: ['ALLOWED_ORIGINS', 'STUN_URLS', 'TURN_URLS'],
  retention: ['MESSAGE_RETENTION_DAYS', 'DB_RESUME_WAIT_MS'],
  [migrateFunctionName]: ['DB_RESUME_WAIT_MS'],
};
const everyFunction = ['xray:PutTelemetryRecords on *', 'xray:PutTraceSegments on *'];
const common = new Set(['NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_LOG_LEVEL']);

const mailFrom = 'CipherTalk <no-reply@mail.example.com>';
const turnArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:turn-AbCdEf';

/** Names a statement's resource by what it is, from the template's references. */
function owner(resource: string): string {
  if (resource === '"*"') return '*';
  if (resource.includes('@connections')) return '@connections';
  if (resource.includes('DataAuroraSecret')) return 'db-secret';
  if (resource.includes('DataAurora')) return 'cluster';
  if (resource.includes('DataJwtKey')) return 'jwt-key';
  if (resource.includes('/attachments/*')) return 'attachments/*';
  if (resource.includes('DataAttachments') || resource.includes('ct-attachments')) return 'bucket';
  if (resource.includes('DataRateLimits')) return 'rate-limits';
  if (resource.includes('DataAuditLog')) return 'audit';
  if (resource.includes(':ses:')) return 'ses-identity';
  if (resource.includes(turnArn)) return 'turn-secret';
  return resource;
}

function grantsOf(synth: Synthesized, name: string) {
  const fn = synth.stack.node.findChild(`Fn-${name}`);
  const id = synth.stack.getLogicalId(fn.node.defaultChild as never);
  const policy = resources(synth.template, 'AWS::IAM::Policy').find(([policyId]) =>
    policyId.startsWith(`Fn${name}ServiceRole`),
  );
  const statements =
    (policy?.[1].PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] } | undefined)
      ?.Statement ?? [];
  const iam = [
    ...new Set(
      statements.flatMap((st) =>
        [st.Resource].flat().flatMap((resource) => {
          const on = owner(JSON.stringify(resource));
          return [st.Action].flat().map((action) => `${action} on ${on}`);
        }),
      ),
    ),
  ].sort();
  const [, props] = resources(synth.template, 'AWS::Lambda::Function').find(([fnId]) => fnId === id) ?? [];
  const variables = Object.keys(
    (props?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
  )
    .filter((v) => !common.has(v))
    .sort();
  return { iam, variables, inVpc: props?.VpcConfig !== undefined, props };
}

function expectedGrants(name: string, options: { mail: boolean; turn: boolean }) {
  const access = (expected[name] ?? []).filter(
    (a) => (a !== 'sendMail' || options.mail) && (a !== 'turnSecret' || options.turn),
  );
  const iam = [...new Set([...everyFunction, ...access.flatMap((a) => iamOf[a])])].sort();
  const variables = [...new Set([...access.flatMap((a) => variablesOf[a]), ...(settingsOf[name] ?? [])])];
  // Without a sender the function still learns that mail is off.
  if (name === 'auth' && !options.mail) variables.push('MAILER');
  return { iam, variables: variables.sort(), inVpc: access.includes('redis') };
}

describe('CipherTalk stack: each function gets exactly what its code uses', () => {
  it('derives the same access as the table for every function, the migrator included', () => {
    const derived = Object.fromEntries([...s.stack.access].map(([name, access]) => [name, Object.keys(access).sort()]));
    const table = Object.fromEntries(Object.entries(expected).map(([name, access]) => [name, [...access].sort()]));
    expect(derived).toEqual(table);
  });

  for (const name of Object.keys(expected)) {
    it(`${name}: exactly its IAM statements, environment variables and VPC placement`, () => {
      const withEverything = synthFull();
      for (const [synth, options] of [
        [s, { mail: false, turn: false }],
        [withEverything, { mail: true, turn: true }],
      ] as const) {
        const actual = grantsOf(synth, name);
        const want = expectedGrants(name, options);
        expect(actual.iam, `${name} IAM (mail ${options.mail})`).toEqual(want.iam);
        expect(actual.variables, `${name} variables (mail ${options.mail})`).toEqual(want.variables);
        expect(actual.inVpc, `${name} VPC`).toBe(want.inVpc);
      }
    });
  }

  it('gives the migrator the Data API on the cluster, so its first ExecuteStatement is allowed (finding 1)', () => {
    const { iam } = grantsOf(s, migrateFunctionName);
    expect(iam).toContain('rds-data:ExecuteStatement on cluster');
    expect(iam).toContain('rds-data:BeginTransaction on cluster');
    expect(iam).toContain('secretsmanager:GetSecretValue on db-secret');
  });

  it('lets the functions send mail only from the configured sender, address and domain', () => {
    const policy = resources(synthFull().template, 'AWS::IAM::Policy').find(([id]) =>
      id.startsWith('FnauthServiceRole'),
    );
    const text = JSON.stringify(policy?.[1]);
    expect(text).toContain(':identity/no-reply@mail.example.com');
    expect(text).toContain(':identity/mail.example.com');
    expect(text).not.toContain('ciphertalk.invalid');
  });

  it('reaches AWS, PostgreSQL and Redis only through a client module, so no use goes without its grant', () => {
    // The migrator once built its database itself: the grants, derived from client modules, missed it.
    const drivers = /^(@aws-sdk\/client-.+|pg|ioredis)$/;
    for (const name of Object.keys(expected)) {
      const around = [...scanImports(name, { aroundClients: true }).packages].filter((p) => drivers.test(p));
      expect(around, name).toEqual([]);
    }
  });

  it('knows the access of every client module in functions/src/adapters/clients/', () => {
    const modules = clientModules();
    expect(modules.length).toBeGreaterThan(8);
    for (const name of modules) expect(Object.keys(clientAccess), `clients/${name}.ts`).toContain(name);
  });
});

let full: Synthesized | undefined;
function synthFull(): Synthesized {
  full ??= synthCipherTalk({
    'ciphertalk:mailFrom': mailFrom,
    'ciphertalk:turnUrls': 'turn:turn.example.com:3478',
    'ciphertalk:turnSecretArn': turnArn,
  });
  return full;
}
