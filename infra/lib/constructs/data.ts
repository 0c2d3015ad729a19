import { tables } from '@ciphertalk/functions/adapters/dynamodb-tables.ts';
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface DataProps {
  readonly envName: string;
  readonly vpc: ec2.IVpc;
  readonly database: {
    readonly minCapacity: number;
    readonly maxCapacity: number;
    readonly deletionProtection: boolean;
    readonly backupRetentionDays: number;
  };
  /** Receives the server access logs of the attachments bucket. */
  readonly accessLogsBucket: s3.IBucket;
  readonly logRetention: logs.RetentionDays;
}

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

    // Aurora exports its log to this group; created here so that it has a retention (RDS would create it without).
    const clusterIdentifier = `ciphertalk-${props.envName}`;
    const postgresLog = new logs.LogGroup(this, 'PostgresLog', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.cluster = new rds.DatabaseCluster(this, 'Aurora', {
      clusterIdentifier,
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
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
      deletionProtection: props.database.deletionProtection,
      removalPolicy: props.database.deletionProtection ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      backup: { retention: Duration.days(props.database.backupRetentionDays) },
      cloudwatchLogsExports: ['postgresql'],
      vpc: props.vpc,
      vpcSubnets: isolated,
      copyTagsToSnapshot: true,
    });
    this.cluster.node.addDependency(postgresLog);
    // The rotation function calls Secrets Manager: it runs in the subnets with egress.
    this.cluster.addRotationSingleUser({
      automaticallyAfter: Duration.days(30),
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });

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
        deletionProtection: props.database.deletionProtection,
        removalPolicy: props.database.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
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
      removalPolicy: props.database.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });

    this.jwtKey = new secretsmanager.Secret(this, 'JwtKey', {
      description: 'CipherTalk access-token signing key (HS256)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
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

  grantDatabase(grantee: iam.IGrantable): void {
    this.cluster.grantDataApiAccess(grantee);
  }

  /** Redis is reached over the network (TLS); the security group is the grant. */
  allowRedisFrom(securityGroup: ec2.ISecurityGroup): void {
    this.cacheSecurityGroup.addIngressRule(securityGroup, ec2.Port.tcpRange(6379, 6380), 'Valkey (TLS) from functions');
  }

  get redisUrl(): string {
    return `rediss://${this.cache.attrEndpointAddress}:${this.cache.attrEndpointPort}`;
  }
}
