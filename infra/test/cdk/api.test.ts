import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrateFunctionName, routeTable } from '../../lib/ciphertalk-stack.ts';
import {
  deriveAccess,
  functionsDir,
  isNarrower,
  knownClientAccessors,
  narrowedAccess,
  scanImports,
} from '../../lib/function-access.ts';
import { resources, type Synthesized, synthCipherTalk } from './synth.ts';

/** The APIs, functions and their grants, as the route table and the functions' code require (issue 8). */
let s: Synthesized;
beforeAll(() => {
  s = synthCipherTalk();
});

const logicalId = (name: string) =>
  s.stack.getLogicalId(s.stack.node.findChild(`Fn-${name}`).node.defaultChild as never);
const integrationTarget = (props: Record<string, unknown>) => JSON.stringify(props.Integration ?? props.IntegrationUri);

describe('CipherTalk stack: APIs from the route table', () => {
  it('deploys one function per route-table function, from functions/src/handlers/<name>.ts, plus the migrator', () => {
    const names = Object.keys(routeTable.functions);
    expect([...s.stack.functions.keys()]).toEqual(names);
    const ours = resources(s.template, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('Fn'));
    expect(ours).toHaveLength(names.length + 1);
    for (const name of [...names, migrateFunctionName]) {
      const fn = ours.find(([id]) => id === logicalId(name));
      expect(fn?.[1]).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
    }
  });

  it('gives every REST route in the route table a Lambda proxy integration of its function', () => {
    const methods = new Map(
      resources(s.template, 'AWS::ApiGateway::Method').filter(([, m]) => m.HttpMethod !== 'OPTIONS'),
    );
    expect(methods.size).toBe(routeTable.restRoutes.length);
    for (const route of routeTable.restRoutes) {
      const construct = s.stack.rest.api.root.resourceForPath(route.path).node.tryFindChild(route.method);
      const method = methods.get(construct ? s.stack.getLogicalId(construct.node.defaultChild as never) : '');
      expect(method, `${route.method} ${route.path}`).toMatchObject({
        HttpMethod: route.method,
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', TimeoutInMillis: 29_000 },
        AuthorizationType: route.auth === 'jwt' ? 'CUSTOM' : 'NONE',
      });
      expect(integrationTarget(method ?? {})).toContain(`"${logicalId(route.function)}","Arn"`);
    }
    // The resource tree has a resource for each path segment of each route.
    const parts = new Set(routeTable.restRoutes.flatMap((r) => r.path.split('/').filter(Boolean)));
    const pathParts = new Set(resources(s.template, 'AWS::ApiGateway::Resource').map(([, r]) => r.PathPart));
    for (const part of parts) expect(pathParts).toContain(part);
  });

  it('puts the REQUEST authorizer, uncached, in front of every jwt route when the route table declares one', () => {
    const jwt = routeTable.restRoutes.filter((r) => r.auth === 'jwt');
    if (!routeTable.authorizer) {
      expect(jwt).toEqual([]);
      s.template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
      return;
    }
    s.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 0,
      AuthorizerUri: Match.anyValue(),
    });
    const authorized = resources(s.template, 'AWS::ApiGateway::Method').filter(([, m]) => m.AuthorizerId);
    expect(authorized).toHaveLength(jwt.length);
  });

  it('gives every WebSocket route key an integration of its function', () => {
    const routes = resources(s.template, 'AWS::ApiGatewayV2::Route');
    expect(routes.map(([, r]) => r.RouteKey).sort()).toEqual(routeTable.webSocketRoutes.map((r) => r.routeKey).sort());
    const integrations = new Map(resources(s.template, 'AWS::ApiGatewayV2::Integration'));
    for (const route of routeTable.webSocketRoutes) {
      const [, props] = routes.find(([, r]) => r.RouteKey === route.routeKey) ?? [];
      const integrationId = JSON.stringify(props?.Target).match(/"Ref":"(\w+)"/)?.[1] ?? '';
      expect(integrationTarget(integrations.get(integrationId) ?? {})).toContain(
        `"${logicalId(route.function)}","Arn"`,
      );
    }
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it('runs every scheduled job of the route table on its EventBridge schedule, and lets the rule invoke it', () => {
    const rules = resources(s.template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(routeTable.schedules.length);
    for (const job of routeTable.schedules) {
      const rule = rules.find(([, r]) => JSON.stringify(r.Targets).includes(`"${logicalId(job.function)}","Arn"`));
      expect(rule?.[1], job.function).toMatchObject({
        ScheduleExpression: Schedule.rate(Duration.minutes(job.everyMinutes)).expressionString,
        State: 'ENABLED',
      });
    }
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [logicalId('retention'), 'Arn'] },
    });
  });

  it('lets only the calls function read the TURN secret, and only when the deployment names one', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:turn-AbCdEf';
    const withTurn = synthCipherTalk({
      'ciphertalk:turnUrls': 'turn:turn.example.com:3478',
      'ciphertalk:turnSecretArn': arn,
    });
    const readers = resources(withTurn.template, 'AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(policy.PolicyDocument).includes(arn))
      .map(([id]) => id);
    expect(readers).toHaveLength(1);
    expect(readers[0]).toMatch(/^FncallsServiceRole/);
    expect(resources(s.template, 'AWS::IAM::Policy').some(([, p]) => JSON.stringify(p).includes('turn'))).toBe(false);
  });

  it('throttles both APIs', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })]),
    });
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }),
    });
  });
});

describe('CipherTalk stack: settings and grants', () => {
  const env = (name: string) => {
    const [, fn] = resources(s.template, 'AWS::Lambda::Function').find(([id]) => id === logicalId(name)) ?? [];
    return (fn?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
  };
  const statements = (name: string) => {
    const policy = resources(s.template, 'AWS::IAM::Policy').find(([id]) => id.startsWith(`Fn${name}ServiceRole`));
    return (
      (policy?.[1].PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })?.Statement ?? []
    ).map((st) => ({ actions: [st.Action].flat(), resource: JSON.stringify(st.Resource) }));
  };
  const actions = (name: string) =>
    statements(name)
      .flatMap((st) => st.actions)
      .sort();

  it('wires every setting functions/src/config.ts requires in AWS into every function', () => {
    const configSource = readFileSync(join(functionsDir, 'src', 'config.ts'), 'utf8');
    for (const name of s.stack.functions.keys()) {
      const vars = env(name);
      for (const required of [
        'DB_CLUSTER_ARN',
        'DB_SECRET_ARN',
        'DB_NAME',
        'ATTACHMENTS_BUCKET',
        'RATE_LIMIT_TABLE',
        'AUDIT_TABLE',
        'WS_MANAGEMENT_ENDPOINT',
        'ALLOWED_ORIGINS',
        'JWT_SECRET_ARN',
      ]) {
        expect(configSource, `config.ts reads ${required}`).toContain(required);
        expect(vars[required], `${name}: ${required}`).toBeDefined();
      }
      expect(vars.DATABASE_URL).toBeUndefined();
      expect(vars.MESSAGE_RETENTION_DAYS, name).toBe('30');
    }
    // The @connections endpoint is the WebSocket stage's callback URL.
    expect(JSON.stringify(env('wsPing').WS_MANAGEMENT_ENDPOINT)).toMatch(
      /^\{"Fn::Join":\["",\["https:\/\/",\{"Ref":"RealtimeApi\w+"\},"\.execute-api\.",\{"Ref":"AWS::Region"\},"\.",\{"Ref":"AWS::URLSuffix"\},"\/prod"\]\]\}$/,
    );
  });

  it('grants execute-api:ManageConnections on this stage only to the functions that post', () => {
    for (const name of s.stack.functions.keys()) {
      const posts = s.stack.access.get(name)?.manageConnections === true;
      const manage = statements(name).filter((st) => st.actions.includes('execute-api:ManageConnections'));
      expect(manage.length, name).toBe(posts ? 1 : 0);
      if (posts) expect(manage[0]?.resource).toContain('/prod/*/@connections/*');
    }
    expect(s.stack.access.get('wsPing')?.manageConnections).toBe(true);
    expect(s.stack.access.get('realtime')?.manageConnections).toBe(true);
    // REST sends and membership changes are delivered live; going offline is told to co-members.
    expect(s.stack.access.get('conversations')?.manageConnections).toBe(true);
    expect(s.stack.access.get('wsDisconnect')?.manageConnections).toBe(true);
    expect(s.stack.access.get('wsConnect')?.manageConnections).toBeUndefined();
    expect(s.stack.access.get('retention')?.manageConnections).toBeUndefined();
  });

  it('gives the functions that sign, check, tag and sweep attachments four object actions on attachments/* only', () => {
    for (const name of ['attachments', 'conversations', 'realtime', 'retention']) {
      expect(s.stack.access.get(name)?.attachments, name).toBe('objects');
      const s3 = statements(name).filter((st) => st.actions.some((a) => a.startsWith('s3:')));
      expect(s3, name).toHaveLength(1);
      expect(s3[0]?.actions.sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject', 's3:PutObjectTagging']);
      expect(s3[0]?.resource).toContain('/attachments/*');
    }
    expect(s.stack.access.get('users')?.attachments).toBeUndefined();
  });

  it('grants the health check only what its one call per dependency needs', () => {
    expect(actions('health')).toEqual(
      [
        'dynamodb:DescribeTable',
        'rds-data:BatchExecuteStatement',
        'rds-data:BeginTransaction',
        'rds-data:CommitTransaction',
        'rds-data:ExecuteStatement',
        'rds-data:RollbackTransaction',
        's3:ListBucket',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it('grants the rate-limit and audit tables only the actions their adapters call', () => {
    for (const name of s.stack.functions.keys()) {
      const access = s.stack.access.get(name) ?? {};
      const onTable = (table: string) =>
        statements(name)
          .filter((st) => st.resource.includes(table))
          .flatMap((st) => st.actions)
          .sort();
      if (access.rateLimits === 'counters') {
        expect(onTable('DataRateLimits'), name).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      }
      if (access.audit === 'appendQuery') {
        expect(onTable('DataAuditLog'), name).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
      }
      if (!access.rateLimits) expect(onTable('DataRateLimits'), name).toEqual([]);
      if (!access.audit) expect(onTable('DataAuditLog'), name).toEqual([]);
    }
  });

  it('places the functions that reach Redis in the VPC, with cluster-mode TLS settings, and no others', () => {
    for (const name of s.stack.functions.keys()) {
      const [, fn] = resources(s.template, 'AWS::Lambda::Function').find(([id]) => id === logicalId(name)) ?? [];
      const redis = s.stack.access.get(name)?.redis === true;
      expect(fn?.VpcConfig !== undefined, name).toBe(redis);
      expect(env(name).REDIS_CLUSTER, name).toBe(redis ? 'true' : undefined);
    }
    expect(s.stack.access.get('wsConnect')?.redis).toBe(true);
    expect(s.stack.access.get('wsPing')?.redis).toBeUndefined();
  });

  it('grants no function a wildcard action, and the JWT key only to functions that sign or verify tokens', () => {
    for (const name of [...s.stack.functions.keys(), migrateFunctionName]) {
      for (const action of actions(name)) expect(action, name).not.toMatch(/:\*$/);
      const readsKey = statements(name).some((st) => st.resource.includes('JwtKey'));
      expect(readsKey, name).toBe(s.stack.access.get(name)?.jwtKey === true);
    }
  });

  it('narrows access only below what the imports imply, each narrowing with its reason', () => {
    for (const [name, narrowing] of Object.entries(narrowedAccess)) {
      const implied = deriveAccess(scanImports(name)) as Record<string, unknown>;
      expect(narrowing.reason.length, name).toBeGreaterThan(30);
      for (const [key, mode] of Object.entries(narrowing.access)) {
        expect(implied, `${name} narrows ${key}, which it does not use`).toHaveProperty(key);
        expect(isNarrower(mode, implied[key]), `${name}: ${key} ${String(mode)}`).toBe(true);
      }
    }
  });

  it('knows the access of every accessor functions/src/adapters/clients.ts exports', () => {
    const clients = readFileSync(join(functionsDir, 'src', 'adapters', 'clients.ts'), 'utf8');
    const exported = [...clients.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
    expect(exported.length).toBeGreaterThan(5);
    for (const name of exported) expect(knownClientAccessors, `clients.ts exports ${name}`).toContain(name);
  });
});

describe('CipherTalk stack: deploy order and operations', () => {
  it('runs migrations through the Data API after the database exists and before any API function is updated', () => {
    const [[triggerId, trigger] = ['', {}]] = resources(s.template, 'Custom::Trigger');
    expect(JSON.stringify(trigger.HandlerArn)).toContain('FnmigrateCurrentVersion');
    const all = s.template.toJSON().Resources as Record<string, { DependsOn?: string[] }>;
    for (const name of s.stack.functions.keys()) {
      expect(all[logicalId(name)]?.DependsOn ?? [], name).toContain(triggerId);
    }
    expect((all[triggerId]?.DependsOn ?? []).some((id) => id.startsWith('DataAurora'))).toBe(true);
    const migrator = resources(s.template, 'AWS::Lambda::Function').find(
      ([id]) => id === logicalId(migrateFunctionName),
    );
    expect(migrator?.[1].VpcConfig).toBeUndefined(); // the Data API is an AWS endpoint: no VPC needed
  });

  it('alarms on function errors and throttles, API 5xx, Aurora capacity, DynamoDB throttles, registry losses and 503s', () => {
    const alarms = resources(s.template, 'AWS::CloudWatch::Alarm');
    const metric = (name: string) => alarms.filter(([, a]) => JSON.stringify(a).includes(`"${name}"`));
    expect(metric('Errors')).toHaveLength(s.stack.functions.size);
    expect(metric('Throttles')).toHaveLength(s.stack.functions.size);
    expect(metric('5XXError')).toHaveLength(1);
    expect(metric('IntegrationError')).toHaveLength(1);
    expect(metric('ServerlessDatabaseCapacity')).toHaveLength(1);
    expect(metric('WriteThrottleEvents')).toHaveLength(1);
    // Live delivery failing after the connection registry lost records (issue 21), and 503s.
    expect(metric('FanoutMissingConnection')).toHaveLength(1);
    expect(metric('ConnectionRecordLost')).toHaveLength(1);
    expect(metric('DependencyUnavailable')).toHaveLength(1);
    for (const [, alarm] of alarms) expect(alarm.AlarmActions).toHaveLength(1);
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('prints the site, API and WebSocket URLs as stack outputs', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['SiteUrl', 'RestApiUrl', 'WebSocketUrl', 'DashboardUrl']),
    );
  });
});
