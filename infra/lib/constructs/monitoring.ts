import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface MonitoringProps {
  readonly envName: string;
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly restApi: apigateway.RestApi;
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly webSocketStageName: string;
  readonly cluster: rds.DatabaseCluster;
  readonly maxCapacity: number;
  readonly tables: readonly dynamodb.ITable[];
  readonly alarmEmail?: string;
  /** Account mail is on (a sender is configured): alarm on failed sends. */
  readonly accountMail?: boolean;
}

/**
 * Alarms (Lambda errors and throttles, API 5xx, Aurora capacity near its
 * ceiling, DynamoDB throttles, connections lost from the registry, dependencies
 * answered unavailable) notifying one encrypted SNS topic, and one dashboard
 * with the same metrics.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'CipherTalk alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    // CloudWatch publishes alarm notifications to the encrypted topic.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Alarms', { masterKey: key, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);

    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const created = new cloudwatch.Alarm(this, name, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };
    const fiveMinutes = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };

    const lambdaWidgets: cloudwatch.IWidget[] = [];
    for (const [name, fn] of props.functions) {
      alarm(`${name}Errors`, fn.metricErrors(fiveMinutes), 5, `${name}: 5+ errors in 5 minutes`);
      alarm(`${name}Throttles`, fn.metricThrottles(fiveMinutes), 1, `${name}: throttled`);
      lambdaWidgets.push(
        new cloudwatch.GraphWidget({
          title: `λ ${name}`,
          left: [fn.metricInvocations(fiveMinutes), fn.metricErrors(fiveMinutes), fn.metricThrottles(fiveMinutes)],
          right: [fn.metricDuration({ period: Duration.minutes(5), statistic: cloudwatch.Stats.p(95) })],
          width: 8,
        }),
      );
    }

    const rest5xx = props.restApi.metricServerError(fiveMinutes);
    alarm('RestApi5xx', rest5xx, 5, 'REST API: 5+ 5xx answers in 5 minutes');
    const wsErrors = new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName: 'IntegrationError',
      dimensionsMap: { ApiId: props.webSocketApi.apiId, Stage: props.webSocketStageName },
      ...fiveMinutes,
    });
    alarm('WebSocketIntegrationErrors', wsErrors, 5, 'WebSocket API: 5+ integration errors in 5 minutes');

    const capacity = new cloudwatch.Metric({
      namespace: 'AWS/RDS',
      metricName: 'ServerlessDatabaseCapacity',
      dimensionsMap: { DBClusterIdentifier: props.cluster.clusterIdentifier },
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    alarm(
      'AuroraCapacityNearMax',
      capacity,
      props.maxCapacity * 0.9,
      `Aurora at 90% or more of its ${props.maxCapacity} ACU ceiling: raise ciphertalk:dbMaxCapacity`,
    );

    const throttleMetrics = props.tables.flatMap((table, i) =>
      ['ReadThrottleEvents', 'WriteThrottleEvents'].map(
        (metricName) =>
          [
            `t${i}${metricName.startsWith('Read') ? 'r' : 'w'}`,
            new cloudwatch.Metric({
              namespace: 'AWS/DynamoDB',
              metricName,
              dimensionsMap: { TableName: table.tableName },
              ...fiveMinutes,
            }),
          ] as const,
      ),
    );
    const dynamoThrottles = new cloudwatch.MathExpression({
      label: 'DynamoDB throttle events',
      expression: throttleMetrics.map(([id]) => id).join(' + '),
      usingMetrics: Object.fromEntries(throttleMetrics),
      period: Duration.minutes(5),
    });
    alarm('DynamoDbThrottles', dynamoThrottles, 1, 'DynamoDB: throttled reads or writes');

    if (props.accountMail) {
      // Counted by functions/src/adapters/best-effort.ts (powertools EMF: namespace CipherTalk, dimension service).
      const mailFailures = new cloudwatch.Metric({
        namespace: 'CipherTalk',
        metricName: 'AccountMailFailed',
        dimensionsMap: { service: 'ciphertalk' },
        ...fiveMinutes,
      });
      alarm(
        'AccountMailFailed',
        mailFailures,
        1,
        'Account mail (password resets) failed to send; callers were answered as if it had gone: check SES',
      );
    }

    // The connection registry lost connections (a Redis failover, eviction or restart): a fan-out found none
    // of a sender's own connections, or a frame came from a connection the registry had no record of. Live
    // delivery fails for someone until their clients reconnect (which the server makes them do).
    const registryMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'CipherTalk',
        metricName,
        dimensionsMap: { service: 'ciphertalk' },
        ...fiveMinutes,
      });
    const registryLost = new cloudwatch.MathExpression({
      label: 'Connections missing from the registry',
      expression: 'FILL(fanout, 0) + FILL(lost, 0)',
      usingMetrics: { fanout: registryMetric('FanoutMissingConnection'), lost: registryMetric('ConnectionRecordLost') },
      period: Duration.minutes(5),
    });
    alarm(
      'ConnectionRegistryLost',
      registryLost,
      1,
      'Fan-outs found no connection for a connected sender, or frames came from unregistered connections: the Redis connection registry lost records',
    );
    const unavailable = registryMetric('DependencyUnavailable');
    alarm(
      'DependencyUnavailable',
      unavailable,
      20,
      'Handlers answered 20+ requests 503: PostgreSQL, Redis or DynamoDB down',
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      // Dashboards are global to the account: the region keeps two regions' stacks apart.
      dashboardName: `CipherTalk-${props.envName}-${Aws.REGION}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
      new cloudwatch.GraphWidget({
        title: 'APIs',
        left: [props.restApi.metricCount(fiveMinutes), rest5xx, props.restApi.metricClientError(fiveMinutes)],
        right: [wsErrors],
        width: 12,
      }),
      new cloudwatch.GraphWidget({ title: 'Aurora ACUs', left: [capacity], width: 6 }),
      new cloudwatch.GraphWidget({ title: 'DynamoDB throttles', left: [dynamoThrottles], width: 6 }),
      new cloudwatch.GraphWidget({
        title: 'Connection registry and dependencies',
        left: [registryLost],
        right: [unavailable],
        width: 12,
      }),
      ...lambdaWidgets,
    );
  }
}
