import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface RealtimeApiProps {
  readonly name: string;
  readonly stageName: string;
  readonly routeSelectionExpression: string;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: logs.RetentionDays;
}

/**
 * The WebSocket API, built from the route table: one Lambda integration per
 * route key, one auto-deployed stage with throttling and JSON access logs.
 * `grantManageConnections` lets a function post to and close connections of
 * this stage only.
 */
export class RealtimeApi extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RealtimeApiProps) {
    super(scope, id);
    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      apiName: props.name,
      description: 'CipherTalk WebSocket API (built from shared/src/routes.ts)',
      routeSelectionExpression: props.routeSelectionExpression,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: props.throttle,
    });
    // The execution log (level ERROR) goes to a group API Gateway would create without a retention.
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `/aws/apigateway/${this.api.apiId}/${props.stageName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage.node.addDependency(executionLogs);
    const cfnStage = this.stage.node.defaultChild as apigwv2.CfnStage;
    cfnStage.accessLogSettings = {
      destinationArn: this.accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        routeKey: '$context.routeKey',
        eventType: '$context.eventType',
        status: '$context.status',
        connectionId: '$context.connectionId',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
    cfnStage.defaultRouteSettings = {
      ...(cfnStage.defaultRouteSettings as object),
      dataTraceEnabled: false,
      loggingLevel: 'ERROR',
      detailedMetricsEnabled: true,
    };
  }

  /** One Lambda integration per route key (`$connect`, `$disconnect`, `$default` and actions alike). */
  addRoutes(
    routes: readonly { readonly routeKey: string; readonly function: string }[],
    functions: ReadonlyMap<string, lambda.IFunction>,
  ): void {
    for (const route of routes) {
      const handler = functions.get(route.function);
      if (!handler) throw new Error(`route table names function "${route.function}", which the stack did not create`);
      const id = `${route.function}-${route.routeKey.replace(/\W/g, '')}`;
      this.api.addRoute(route.routeKey, { integration: new WebSocketLambdaIntegration(id, handler) });
    }
  }

  /** The @connections endpoint of the stage: `https://{api}.execute-api.{region}.amazonaws.com/{stage}`. */
  get managementEndpoint(): string {
    return this.stage.callbackUrl;
  }

  get url(): string {
    return this.stage.url;
  }

  /** Post to and close connections of this stage only, with the endpoint to do it at. */
  grantManageConnections(fn: lambda.Function): void {
    this.stage.grantManagementApiAccess(fn);
    fn.addEnvironment('WS_MANAGEMENT_ENDPOINT', this.managementEndpoint);
  }
}
