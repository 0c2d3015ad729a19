import { tables } from '@ciphertalk/functions/adapters/dynamodb-tables.ts';
import { Aws, CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sam from 'aws-cdk-lib/aws-sam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';

export interface DataProps {
  readonly envName: string;
  readonly vpc: ec2.IVpc;
  readonly database: {
    readonly minCapacity: number;
    readonly maxCapacity: number;
    readonly deletionProtection: boolean;
    readonly backupRetentionDays: number;
    /** Aurora PostgreSQL engine version (`ciphertalk:auroraPostgresVersion`), e.g. `16.8`. */
    readonly engineVersion: string;
  };
  /** Receives the server access logs of the attachments bucket. */
  readonly accessLogsBucket: s3.IBucket;
  readonly logRetention: logs.RetentionDays;
}

/** Where attachment objects live in the bucket (functions/src/domain/attachments.ts `objectKey`). */
export const attachmentObjectPrefix = 'attachments/*';

/** Uploads the attachments issue tags `ciphertalk:state=unreferenced` until a message references them. */
export const unreferencedUploadTag = { key: 'ciphertalk:state', value: 'unreferenced' } as const;

/**
 * Aurora PostgreSQL Serverless v2 with the Data API, ElastiCache Serverless
 * (Valkey, TLS only), the DynamoDB tables of functions/src/adapters/dynamodb-tables.ts,
 * the attachments bucket and the JWT signing key. Functions get access only
 * through the `grant*` methods.
 */
export class Data extends Construct {
  readonly cluster: rds.DatabaseCluster;
  readonly databaseName = 'ciphertalk';
  readonly cache: elasticache.CfnServerlessCache;
  readonly cacheSecurityGroup: ec2.SecurityGroup;
  readonly rateLimitTable: dynamodb.Table;
  readonly auditTable: dynamodb.Table;
  readonly attachmentsBucket: s3.Bucket;
  /**
   * The attachments bucket's name, fixed from the environment, account and region (at most 63 characters,
   * envName being at most 20) rather than generated: the SPA's CSP names the bucket while the bucket's CORS
   * names the SPA's distribution, and a reference each way would be a cycle.
   */
  readonly attachmentsBucketName: string;
  readonly jwtKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    // CloudFormation's RetainExceptOnCreate: the data survives a stack deletion or a replacement, but what a
    // failed first deploy created is rolled back, so the retry finds no bucket or cluster of the same name.
    const retain = props.database.deletionProtection ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY;
    this.#deletionProtection = props.database.deletionProtection;

    // Aurora exports its log to this group; created here so that it has a retention (RDS would create it without).
    const clusterIdentifier = `ciphertalk-${props.envName}`;
    const postgresLog = new logs.LogGroup(this, 'PostgresLog', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.cluster = new rds.DatabaseCluster(this, 'Aurora', {
      clusterIdentifier,
      engine: rds.DatabaseClusterEngine.auroraPostgres({
        version: rds.AuroraPostgresEngineVersion.of(
          props.database.engineVersion,
          props.database.engineVersion.split('.')[0] ?? props.database.engineVersion,
        ),
      }),
      writer: rds.ClusterInstance.serverlessV2('writer', { autoMinorVersionUpgrade: true }),
      serverlessV2MinCapacity: props.database.minCapacity,
      serverlessV2MaxCapacity: props.database.maxCapacity,
      // At 0 ACU the cluster pauses after this long without connections; the next statement waits ~15 s.
      ...(props.database.minCapacity === 0 ? { serverlessV2AutoPauseDuration: Duration.minutes(10) } : {}),
      enableDataApi: true,
      credentials: rds.Credentials.fromGeneratedSecret('ciphertalk_admin'),
      defaultDatabaseName: this.databaseName,
      storageEncrypted: true,
      iamAuthentication: true,
      // Off in the template, switched on by `protectAfterCreate` once the whole stack exists: a protected
      // cluster cannot be deleted, so a failed first deploy could not roll back, and its fixed name would
      // block the retry. Kept on a stack deletion and on replacement, deleted only when its create fails.
      deletionProtection: false,
      removalPolicy: retain,
      backup: { retention: Duration.days(props.database.backupRetentionDays) },
      cloudwatchLogsExports: ['postgresql'],
      vpc: props.vpc,
      vpcSubnets: isolated,
      copyTagsToSnapshot: true,
    });
    this.cluster.node.addDependency(postgresLog);
    // The rotation function calls Secrets Manager: it runs in the subnets with egress.
    // Not at once on creation: the migrations trigger uses the secret then (and the Data API adapter retries
    // one authentication failure, for the rotations that follow).
    const rotation = this.cluster.addRotationSingleUser({
      automaticallyAfter: Duration.days(30),
      rotateImmediatelyOnUpdate: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    // The rotation function comes from the Serverless Application Repository and logs to /aws/lambda/<name>,
    // a group it would create without a retention: created here first, with one.
    const application = rotation.node
      .findAll()
      .find((c) => c instanceof CfnResource && c.cfnResourceType === 'AWS::Serverless::Application') as
      | sam.CfnApplication
      | undefined;
    const functionName = (application?.parameters as Record<string, string> | undefined)?.functionName;
    if (application && functionName) {
      const rotationLogs = new logs.LogGroup(this, 'RotationLogs', {
        logGroupName: `/aws/lambda/${functionName}`,
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      application.node.addDependency(rotationLogs);
    }

    this.cacheSecurityGroup = new ec2.SecurityGroup(this, 'CacheSecurityGroup', {
      vpc: props.vpc,
      description: 'ElastiCache Serverless: reachable from the CipherTalk functions only',
      allowAllOutbound: false,
    });
    this.cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      serverlessCacheName: `ciphertalk-${props.envName}`,
      engine: 'valkey',
      majorEngineVersion: '8',
      description: 'CipherTalk connections and presence',
      securityGroupIds: [this.cacheSecurityGroup.securityGroupId],
      subnetIds: props.vpc.selectSubnets(isolated).subnetIds,
      // A ceiling on what a runaway client can cost: connection records are small.
      cacheUsageLimits: { dataStorage: { maximum: 5, unit: 'GB' }, ecpuPerSecond: { maximum: 15_000 } },
      dailySnapshotTime: '03:00',
      snapshotRetentionLimit: 1,
    });

    const table = (name: string, spec: { partitionKey: string; sortKey?: string; ttlAttribute?: string }) =>
      new dynamodb.Table(this, name, {
        partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
        ...(spec.sortKey ? { sortKey: { name: spec.sortKey, type: dynamodb.AttributeType.STRING } } : {}),
        ...(spec.ttlAttribute ? { timeToLiveAttribute: spec.ttlAttribute } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // Like the cluster's: switched on by `protectAfterCreate`, or a failed first deploy could not delete it.
        deletionProtection: false,
        removalPolicy: retain,
      });
    this.rateLimitTable = table('RateLimits', tables.rateLimits);
    this.auditTable = table('AuditLog', tables.audit);

    this.attachmentsBucketName = `ct-attachments-${props.envName}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    this.attachmentsBucket = new s3.Bucket(this, 'Attachments', {
      bucketName: this.attachmentsBucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'attachments/',
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-unreferenced-uploads',
          tagFilters: { [unreferencedUploadTag.key]: unreferencedUploadTag.value },
          expiration: Duration.days(1),
        },
      ],
      removalPolicy: retain,
      autoDeleteObjects: false,
    });

    this.jwtKey = new secretsmanager.Secret(this, 'JwtKey', {
      description: 'CipherTalk access-token signing key (HS256)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
  }

  readonly #deletionProtection: boolean;

  /**
   * Switches deletion protection on (with `deletionProtection`) for the cluster and the tables once `after`
   * exist, i.e. at the end of the first deploy: until then a failed create rolls them back like anything
   * else (a protected cluster or table refuses the rollback's delete). API calls from CDK's
   * AwsCustomResource, allowed rds:ModifyDBCluster on this cluster and dynamodb:UpdateTable on these tables.
   */
  protectAfterCreate(after: readonly IDependable[], logGroup: logs.ILogGroup): void {
    if (!this.#deletionProtection) return;
    const protect = (id: string, call: Omit<cr.AwsSdkCall, 'physicalResourceId'>, resource: string, action: string) => {
      const sdkCall: cr.AwsSdkCall = {
        ...call,
        physicalResourceId: cr.PhysicalResourceId.of(`deletion-protection-${id}`),
      };
      const custom = new cr.AwsCustomResource(this, `DeletionProtection${id}`, {
        onCreate: sdkCall,
        onUpdate: sdkCall,
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({ actions: [action], resources: [resource] }),
        ]),
        installLatestAwsSdk: false,
        logGroup,
      });
      custom.node.addDependency(...after);
    };
    protect(
      'Cluster',
      {
        service: 'RDS',
        action: 'modifyDBCluster',
        parameters: { DBClusterIdentifier: this.cluster.clusterIdentifier, DeletionProtection: true },
      },
      this.cluster.clusterArn,
      'rds:ModifyDBCluster',
    );
    for (const [id, table] of [
      ['RateLimits', this.rateLimitTable],
      ['AuditLog', this.auditTable],
    ] as const) {
      protect(
        id,
        {
          service: 'DynamoDB',
          action: 'updateTable',
          parameters: { TableName: table.tableName, DeletionProtectionEnabled: true },
        },
        table.tableArn,
        'dynamodb:UpdateTable',
      );
    }
  }

  /** The SPA at these origins may upload (presigned POST) and GET attachments with presigned URLs. */
  allowBrowserUploads(origins: readonly string[]): void {
    this.attachmentsBucket.addCorsRule({
      allowedOrigins: [...origins],
      allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.POST, s3.HttpMethods.HEAD],
      allowedHeaders: ['content-type', 'content-length', 'x-amz-*'],
      exposedHeaders: ['etag'],
      maxAge: 3600,
    });
  }

  /**
   * The Data API on the cluster and its credentials' secret (CDK's grantDataApiAccess: the five rds-data
   * statement actions on the cluster, GetSecretValue and DescribeSecret on the secret), with the variables
   * that name them.
   */
  grantDatabase(fn: lambda.Function): void {
    this.cluster.grantDataApiAccess(fn);
    fn.addEnvironment('DB_CLUSTER_ARN', this.cluster.clusterArn);
    fn.addEnvironment('DB_SECRET_ARN', this.cluster.secret?.secretArn ?? '');
    fn.addEnvironment('DB_NAME', this.databaseName);
  }

  /**
   * Redis is reached over the network (TLS): the function must be in the VPC (its construct places it
   * there), and the cache's security group admits the functions' group. No IAM.
   */
  grantRedis(fn: lambda.Function, functionsSecurityGroup: ec2.ISecurityGroup): void {
    if (!fn.isBoundToVpc) throw new Error(`${fn.node.id} reaches Redis, so it must be placed in the VPC`);
    if (!this.#redisClients.has(functionsSecurityGroup)) {
      this.#redisClients.add(functionsSecurityGroup);
      this.cacheSecurityGroup.addIngressRule(
        functionsSecurityGroup,
        ec2.Port.tcpRange(6379, 6380),
        'Valkey (TLS) from functions',
      );
    }
    fn.addEnvironment('REDIS_URL', this.redisUrl);
    fn.addEnvironment('REDIS_CLUSTER', 'true');
  }

  readonly #redisClients = new Set<ec2.ISecurityGroup>();

  /**
   * Get, Put, PutTagging and Delete on the attachment objects (`attachments/*`) only: what signing uploads
   * and downloads, checking sizes, tagging and sweeping use. HeadObject is authorised by s3:GetObject. No
   * s3:ListBucket: listing every attachment id is more than any function needs, and without it S3 answers
   * HeadObject of a missing key with 403 instead of 404, which the adapter reads as missing.
   */
  grantAttachmentObjects(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging', 's3:DeleteObject'],
        resources: [this.attachmentsBucket.arnForObjects(attachmentObjectPrefix)],
      }),
    );
    fn.addEnvironment('ATTACHMENTS_BUCKET', this.attachmentsBucketName);
  }

  /** The health check: HeadBucket (authorised by s3:ListBucket on the bucket) and DescribeTable, nothing else. */
  grantHealthProbes(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.attachmentsBucket.bucketArn] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [this.rateLimitTable.tableArn] }),
    );
    fn.addEnvironment('ATTACHMENTS_BUCKET', this.attachmentsBucketName);
    fn.addEnvironment('RATE_LIMIT_TABLE', this.rateLimitTable.tableName);
  }

  /** The sliding-window limiter's counters: UpdateItem on the current window, GetItem on the previous one. */
  grantRateLimiter(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
        resources: [this.rateLimitTable.tableArn],
      }),
    );
    fn.addEnvironment('RATE_LIMIT_TABLE', this.rateLimitTable.tableName);
  }

  /** The audit log is append-only: PutItem and Query. */
  grantAuditLog(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:Query'],
        resources: [this.auditTable.tableArn],
      }),
    );
    fn.addEnvironment('AUDIT_TABLE', this.auditTable.tableName);
  }

  /** The access-token signing key, read once per container. */
  grantJwtKey(fn: lambda.Function): void {
    this.jwtKey.grantRead(fn);
    fn.addEnvironment('JWT_SECRET_ARN', this.jwtKey.secretArn);
  }

  get redisUrl(): string {
    return `rediss://${this.cache.attrEndpointAddress}:${this.cache.attrEndpointPort}`;
  }
}
