import { join } from 'node:path';
import { functions, restApi, schedules, webSocketApi } from '@ciphertalk/shared/routes';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Trigger } from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import type { CipherTalkConfig } from './config.ts';
import { Data } from './constructs/data.ts';
import { CipherTalkFunction } from './constructs/function.ts';
import { Mail } from './constructs/mail.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { Network } from './constructs/network.ts';
import { RealtimeApi } from './constructs/realtime-api.ts';
import { originKeyHeader, RestApi } from './constructs/rest-api.ts';
import { Web } from './constructs/web.ts';
import { accessOf, type FunctionAccess, repoRoot, settingsOf } from './function-access.ts';
import { giveEveryFunctionALogGroup } from './log-groups.ts';

export interface CipherTalkStackProps extends StackProps {
  readonly config: CipherTalkConfig;
  /** The SPA's build output; defaults to web/dist. */
  readonly webDistDir?: string;
}

export const defaultWebDistDir = join(repoRoot, 'web', 'dist');

export { attachmentObjectPrefix } from './constructs/data.ts';

type FunctionSpec = { description: string; timeoutSeconds: number; memoryMb: number };

/**
 * How long a function's statements wait for a paused (0 ACU) Aurora cluster to resume (about 15 s).
 * Request paths wait nothing: they answer 503 with Retry-After at once, and the client retries, so no
 * authorizer (5 s) or REST function (10 s) times out into a 5xx. Jobs with long timeouts wait instead.
 */
export const resumeWaitMs: Readonly<Record<string, number>> = { migrate: 300_000, retention: 120_000 };

/**
 * The route table as the stack reads it. Widened on purpose: the stack deploys
 * whatever the table lists (routes, functions, the REST authorizer, schedules).
 */
export const routeTable = {
  functions: functions as Readonly<Record<string, FunctionSpec>>,
  restRoutes: restApi.routes as readonly { method: string; path: string; function: string; auth: 'none' | 'jwt' }[],
  authorizer: restApi.authorizer as string | undefined,
  webSocketRoutes: webSocketApi.routes as readonly { routeKey: string; function: string }[],
  schedules: schedules as readonly { function: string; everyMinutes: number }[],
};

/** The function that applies functions/migrations through the Data API; not part of any API. */
export const migrateFunctionName = 'migrate';

/**
 * CipherTalk in one stack: network, data, one Lambda per function of the route
 * table (each granted only the access it needs), the REST and WebSocket APIs
 * built from the route table, migrations that run before new code serves
 * traffic, the SPA behind CloudFront, alarms and a dashboard.
 */
export class CipherTalkStack extends Stack {
  readonly config: CipherTalkConfig;
  readonly functions = new Map<string, CipherTalkFunction>();
  readonly access = new Map<string, FunctionAccess>();
  readonly network: Network;
  readonly data: Data;
  readonly rest: RestApi;
  readonly realtime: RealtimeApi;
  readonly web: Web;
  readonly monitoring: Monitoring;
  readonly mail: Mail;
  readonly migrations: Trigger;

  constructor(scope: Construct, id: string, props: CipherTalkStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    Tags.of(this).add('app', 'ciphertalk');
    Tags.of(this).add('environment', config.envName);
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const throttle = { rateLimit: config.api.throttleRateLimit, burstLimit: config.api.throttleBurstLimit };

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // CloudFront's standard logs are delivered with ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(config.logRetentionDays) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    this.network = new Network(this, 'Network', { ...config.network, logRetention });
    this.data = new Data(this, 'Data', {
      envName: config.envName,
      vpc: this.network.vpc,
      database: config.database,
      accessLogsBucket: accessLogs,
      logRetention,
    });

    const stageName = config.envName;
    this.rest = new RestApi(this, 'RestApi', {
      name: `${restApi.name}-${config.envName}`,
      stageName,
      binaryMediaTypes: restApi.binaryMediaTypes,
      throttle,
      logRetention,
      ...(config.originKeyVersion ? { originKeyVersion: config.originKeyVersion } : {}),
    });
    this.realtime = new RealtimeApi(this, 'RealtimeApi', {
      name: `${webSocketApi.name}-${config.envName}`,
      stageName,
      routeSelectionExpression: webSocketApi.routeSelectionExpression,
      throttle,
      logRetention,
    });
    // API Gateway logs to CloudWatch through the account's role, which the REST API sets.
    const account = this.rest.api.node.tryFindChild('Account');
    if (account) this.realtime.stage.node.addDependency(account);

    const executeApiHost = (apiId: string) => `${apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    this.web = new Web(this, 'Web', {
      distDir: props.webDistDir ?? defaultWebDistDir,
      ...(config.domain ? { domain: config.domain } : {}),
      restApi: {
        host: executeApiHost(this.rest.api.restApiId),
        stageName,
        originKey: { header: originKeyHeader, value: this.rest.originKeyValue },
      },
      webSocket: { host: executeApiHost(this.realtime.api.apiId), url: this.realtime.url },
      attachmentsBucketName: this.data.attachmentsBucketName,
      accessLogsBucket: accessLogs,
      logRetention,
    });
    const allowedOrigins = [this.web.siteUrl, ...config.allowedOrigins];
    this.data.allowBrowserUploads(allowedOrigins);

    this.mail = new Mail(this, 'Mail', config.mailFrom ? { from: config.mailFrom } : {});

    // Settings a function's code reads (function-access.ts `settingVariables`); resources come with grants.
    const settings: Readonly<Record<string, string>> = {
      ALLOWED_ORIGINS: allowedOrigins.join(','),
      // The REST API answers only requests through CloudFront (the origin key): exactly one proxy hop.
      TRUSTED_PROXY_HOPS: '1',
      // The browser sees the API under the stage path of the site (see Web): the refresh cookie's path.
      REFRESH_COOKIE_PATH: `/${stageName}/auth`,
      MESSAGE_RETENTION_DAYS: String(config.messageRetentionDays),
      STUN_URLS: config.calls.stunUrls.join(','),
      TURN_URLS: config.calls.turnUrls.join(','),
    };

    const createFunction = (name: string, spec: FunctionSpec) => {
      const access = accessOf(name);
      const environment: Record<string, string> = { POWERTOOLS_LOG_LEVEL: 'INFO' };
      for (const variable of settingsOf(name)) {
        const value =
          variable === 'DB_RESUME_WAIT_MS'
            ? resumeWaitMs[name]?.toString()
            : (settings[variable] as string | undefined);
        if (value !== undefined) environment[variable] = value;
      }
      const fn = new CipherTalkFunction(this, `Fn-${name}`, {
        name,
        ...spec,
        environment,
        logRetention,
        ...(access.redis
          ? { vpc: { vpc: this.network.vpc, securityGroups: [this.network.functionsSecurityGroup] } }
          : {}),
        withMigrations: name === migrateFunctionName,
      });
      this.grant(fn, access);
      this.access.set(name, access);
      return fn;
    };

    for (const [name, spec] of Object.entries(routeTable.functions)) {
      this.functions.set(name, createFunction(name, spec));
    }

    this.rest.addRoutes({
      routes: routeTable.restRoutes,
      ...(routeTable.authorizer ? { authorizer: routeTable.authorizer } : {}),
      functions: this.functions,
      integrationTimeoutSeconds: restApi.integrationTimeoutSeconds,
      allowedOrigins,
    });
    this.realtime.addRoutes(routeTable.webSocketRoutes, this.functions);
    for (const job of routeTable.schedules) {
      const fn = this.functions.get(job.function);
      if (!fn) throw new Error(`schedule names unknown function ${job.function}`);
      new events.Rule(this, `Schedule-${job.function}`, {
        description: `Runs ${job.function} every ${job.everyMinutes} minutes`,
        schedule: events.Schedule.rate(Duration.minutes(job.everyMinutes)),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
      });
    }

    // Migrations run through the Data API on every deploy that changes them (they are part of the
    // function's asset), after the database exists and before any API function is updated.
    const migrate = createFunction(migrateFunctionName, {
      description: 'Applies functions/migrations through the Data API (CDK trigger, before the API functions update)',
      timeoutSeconds: 600,
      memoryMb: 256,
    });
    this.migrations = new Trigger(this, 'Migrations', {
      handler: migrate,
      timeout: Duration.minutes(10),
      executeAfter: [this.data.cluster],
      executeBefore: [...this.functions.values()],
      executeOnHandlerChange: true,
    });

    // Last: deletion protection once everything else exists (a failed first deploy rolls back cleanly), and a
    // retention on the log groups of CDK's own provider functions.
    this.data.protectAfterCreate(
      [...this.functions.values(), migrate, this.migrations, this.web, this.rest, this.realtime],
      new logs.LogGroup(this, 'DeletionProtectionLogs', {
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    );
    giveEveryFunctionALogGroup(this, logRetention);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      envName: config.envName,
      functions: this.functions,
      restApi: this.rest.api,
      webSocketApi: this.realtime.api,
      webSocketStageName: stageName,
      cluster: this.data.cluster,
      maxCapacity: config.database.maxCapacity,
      tables: [this.data.rateLimitTable, this.data.auditTable],
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
      accountMail: this.mail.enabled,
    });

    new CfnOutput(this, 'SiteUrl', { value: this.web.siteUrl, description: 'Open this in a browser' });
    new CfnOutput(this, 'RestApiUrl', { value: this.web.apiUrl, description: 'The REST API, through CloudFront' });
    new CfnOutput(this, 'WebSocketUrl', { value: this.realtime.url });
    new CfnOutput(this, 'DistributionDomainName', {
      value: this.web.distribution.distributionDomainName,
      description: 'Point a custom domain (CNAME/alias) here',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.monitoring.dashboard.dashboardName}`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }

  /** Exactly the access the function's imports imply, each from the construct that owns the resource. */
  private grant(fn: CipherTalkFunction, access: FunctionAccess): void {
    const { data } = this;
    if (access.database) data.grantDatabase(fn);
    if (access.redis) data.grantRedis(fn, this.network.functionsSecurityGroup);
    if (access.attachmentObjects) data.grantAttachmentObjects(fn);
    if (access.healthProbes) data.grantHealthProbes(fn);
    if (access.rateLimiter) data.grantRateLimiter(fn);
    if (access.auditLog) data.grantAuditLog(fn);
    if (access.jwtKey) data.grantJwtKey(fn);
    if (access.manageConnections) this.realtime.grantManageConnections(fn);
    if (access.sendMail) this.mail.grantSend(fn);
    const { turnSecretArn } = this.config.calls;
    if (access.turnSecret && turnSecretArn) {
      // The TURN server's secret belongs to the deploying company, not this stack: read by ARN.
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [turnSecretArn] }),
      );
      fn.addEnvironment('TURN_SECRET_ARN', turnSecretArn);
    }
  }
}
