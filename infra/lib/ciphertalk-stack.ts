import { join } from 'node:path';
import { functions, restApi, schedules, webSocketApi } from '@ciphertalk/shared/routes';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Trigger } from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import type { CipherTalkConfig } from './config.ts';
import { Data } from './constructs/data.ts';
import { CipherTalkFunction } from './constructs/function.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { Network } from './constructs/network.ts';
import { RealtimeApi } from './constructs/realtime-api.ts';
import { RestApi } from './constructs/rest-api.ts';
import { Web } from './constructs/web.ts';
import { accessOf, type FunctionAccess, repoRoot } from './function-access.ts';

export interface CipherTalkStackProps extends StackProps {
  readonly config: CipherTalkConfig;
  /** The SPA's build output; defaults to web/dist. */
  readonly webDistDir?: string;
}

export const defaultWebDistDir = join(repoRoot, 'web', 'dist');

/** Where attachment objects live in the bucket (functions/src/domain/attachments.ts `objectKey`). */
export const attachmentObjectPrefix = 'attachments/*';

/**
 * The route table as the stack reads it. Widened on purpose: the stack deploys
 * whatever the table lists (routes, functions, the REST authorizer, schedules).
 */
export const routeTable = {
  functions: functions as Readonly<Record<string, { description: string; timeoutSeconds: number; memoryMb: number }>>,
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
      restApi: { host: executeApiHost(this.rest.api.restApiId), stageName },
      webSocket: { host: executeApiHost(this.realtime.api.apiId), url: this.realtime.url },
      attachmentsBucketName: this.data.attachmentsBucketName,
      accessLogsBucket: accessLogs,
      logRetention,
    });
    const allowedOrigins = [this.web.siteUrl, ...config.allowedOrigins];
    this.data.allowBrowserUploads(allowedOrigins);

    // What every function's config.ts reads (functions/src/config.ts); secrets by ARN, never by value.
    const environment = {
      DB_CLUSTER_ARN: this.data.cluster.clusterArn,
      DB_SECRET_ARN: this.data.cluster.secret?.secretArn ?? '',
      DB_NAME: this.data.databaseName,
      ATTACHMENTS_BUCKET: this.data.attachmentsBucket.bucketName,
      RATE_LIMIT_TABLE: this.data.rateLimitTable.tableName,
      AUDIT_TABLE: this.data.auditTable.tableName,
      WS_MANAGEMENT_ENDPOINT: this.realtime.managementEndpoint,
      ALLOWED_ORIGINS: allowedOrigins.join(','),
      JWT_SECRET_ARN: this.data.jwtKey.secretArn,
      // The browser sees the API under the stage path of the site (see Web): the refresh cookie's path.
      REFRESH_COOKIE_PATH: `/${stageName}/auth`,
      MESSAGE_RETENTION_DAYS: String(config.messageRetentionDays),
      STUN_URLS: config.calls.stunUrls.join(','),
      TURN_URLS: config.calls.turnUrls.join(','),
      ...(config.calls.turnSecretArn ? { TURN_SECRET_ARN: config.calls.turnSecretArn } : {}),
      ...(config.mailFrom ? { MAIL_FROM: config.mailFrom } : {}),
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    const redisEnvironment = { REDIS_URL: this.data.redisUrl, REDIS_CLUSTER: 'true' };

    const createFunction = (name: string, spec: { description: string; timeoutSeconds: number; memoryMb: number }) => {
      const access = accessOf(name);
      const fn = new CipherTalkFunction(this, `Fn-${name}`, {
        name,
        ...spec,
        environment: { ...environment, ...(access.redis ? redisEnvironment : {}) },
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
    if ([...this.functions.values()].some((fn) => fn.isBoundToVpc)) {
      this.data.allowRedisFrom(this.network.functionsSecurityGroup);
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

  /** Exactly the access the function's imports imply (narrowed where declared), nothing else. */
  private grant(fn: CipherTalkFunction, access: FunctionAccess): void {
    const { data } = this;
    if (access.database) data.grantDatabase(fn);
    if (access.attachments === 'readWrite') data.attachmentsBucket.grantReadWrite(fn);
    if (access.attachments === 'objects') {
      // HeadObject is authorised by s3:GetObject; a presigned POST by s3:PutObject (+ PutObjectTagging for its tag).
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging', 's3:DeleteObject'],
          resources: [data.attachmentsBucket.arnForObjects(attachmentObjectPrefix)],
        }),
      );
    }
    if (access.attachments === 'head') {
      // HeadBucket is authorised by s3:ListBucket on the bucket itself (not its objects).
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [data.attachmentsBucket.bucketArn] }),
      );
    }
    if (access.rateLimits === 'readWrite') data.rateLimitTable.grantReadWriteData(fn);
    if (access.rateLimits === 'describe') {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:DescribeTable'],
          resources: [data.rateLimitTable.tableArn],
        }),
      );
    }
    if (access.rateLimits === 'update') {
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [data.rateLimitTable.tableArn] }),
      );
    }
    if (access.audit === 'readWrite') data.auditTable.grantReadWriteData(fn);
    if (access.audit === 'appendQuery') {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:PutItem', 'dynamodb:Query'],
          resources: [data.auditTable.tableArn],
        }),
      );
    }
    if (access.jwtKey) data.jwtKey.grantRead(fn);
    if (access.turnSecret && this.config.calls.turnSecretArn) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.config.calls.turnSecretArn],
        }),
      );
    }
    if (access.manageConnections) this.realtime.grantManageConnections(fn);
    if (access.sendMail) {
      // The sender's address and its domain: SES authorises a send against whichever identity is verified.
      const address =
        /<([^>]+)>$/.exec(this.config.mailFrom ?? '')?.[1] ?? this.config.mailFrom ?? 'no-reply@ciphertalk.invalid';
      const domain = address.split('@')[1] ?? address;
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ses:SendEmail'],
          resources: [address, domain].map((identity) =>
            this.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
          ),
        }),
      );
    }
  }
}
