import { restApi } from '@ciphertalk/shared/routes';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrateFunctionName, routeTable } from '../../lib/ciphertalk-stack.ts';
import { functionEnvironment, resources, type Synthesized, synthCipherTalk } from './synth.ts';

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

  it('answers an authorizer failure (a database resuming from 0 ACU) with 503 and Retry-After, not a 500 (finding 5)', () => {
    for (const type of ['AUTHORIZER_FAILURE', 'AUTHORIZER_CONFIGURATION_ERROR']) {
      s.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: '503',
        ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': "'5'" }),
        ResponseTemplates: { 'application/json': JSON.stringify(restApi.authorizerFailure.body) },
      });
    }
    // Request paths wait for no resume (they answer 503 at once, within the authorizer's 5 s and the REST
    // functions' 10 s); the jobs with long timeouts wait.
    for (const name of s.stack.functions.keys()) {
      const wait = Number(functionEnvironment(s, name).DB_RESUME_WAIT_MS ?? 0);
      const timeout = routeTable.functions[name]?.timeoutSeconds ?? 0;
      expect(wait, name).toBeLessThan(timeout * 1000);
      if (name !== 'retention') expect(wait, name).toBe(0);
    }
    expect(functionEnvironment(s, migrateFunctionName).DB_RESUME_WAIT_MS).toBe('300000');
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

  it('alarms on function errors and throttles, API 5xx, Aurora capacity and DynamoDB throttles', () => {
    const alarms = resources(s.template, 'AWS::CloudWatch::Alarm');
    const metric = (name: string) => alarms.filter(([, a]) => JSON.stringify(a).includes(`"${name}"`));
    expect(metric('Errors')).toHaveLength(s.stack.functions.size);
    expect(metric('Throttles')).toHaveLength(s.stack.functions.size);
    expect(metric('5XXError')).toHaveLength(1);
    expect(metric('IntegrationError')).toHaveLength(1);
    expect(metric('ServerlessDatabaseCapacity')).toHaveLength(1);
    expect(metric('WriteThrottleEvents')).toHaveLength(1);
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
