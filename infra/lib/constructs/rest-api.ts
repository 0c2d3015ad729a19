import { restApi as restApiTable } from '@ciphertalk/shared/routes';
import { Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface RestRouteSpec {
  readonly method: string;
  readonly path: string;
  readonly function: string;
  readonly auth: 'none' | 'jwt';
}

export interface RestApiProps {
  readonly name: string;
  readonly stageName: string;
  readonly binaryMediaTypes: readonly string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: logs.RetentionDays;
  /** Pin the origin key to this Secrets Manager version id (`ciphertalk:originKeyVersion`): rotation. */
  readonly originKeyVersion?: string;
}

/** The header CloudFront adds to every request to the API: API Gateway's API key header. */
export const originKeyHeader = 'x-api-key';

/**
 * The REST API, built from the route table: one resource per path segment,
 * one Lambda proxy integration per route, the REQUEST authorizer in front of
 * every `auth: 'jwt'` route (result caching off, so revocation takes effect on
 * the next request), CORS preflight for the SPA's origins, stage throttling,
 * JSON access logs, X-Ray, and request-parameter validation (bodies are
 * validated by the handlers with the shared zod schemas).
 */
export interface RestRoutesProps {
  readonly routes: readonly RestRouteSpec[];
  /** The REQUEST authorizer's function name, when the route table declares one. */
  readonly authorizer?: string;
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly integrationTimeoutSeconds: number;
  /** Origins answered by CORS preflight (the SPA's). */
  readonly allowedOrigins: readonly string[];
}

export class RestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly accessLogs: logs.LogGroup;
  /**
   * The API answers only requests that carry this key (`x-api-key`), which only CloudFront adds: the
   * execute-api URL refuses direct callers with 403 before any function runs, so `X-Forwarded-For` has
   * exactly one trusted hop (CloudFront) and cannot be forged around it. Generated in Secrets Manager and
   * written into the API key and the CloudFront origin by dynamic reference at deploy time, so it is in
   * neither the template nor any log (access logs omit the key). Rotation: README, "Origin key".
   */
  readonly originKey: secretsmanager.Secret;
  /** `{{resolve:secretsmanager:...}}`: what CloudFront sends, resolved by CloudFormation. */
  readonly originKeyValue: string;
  readonly #validator: apigateway.RequestValidator;

  constructor(scope: Construct, id: string, props: RestApiProps) {
    super(scope, id);

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: props.name,
      description: 'CipherTalk REST API (built from shared/src/routes.ts)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      binaryMediaTypes: [...props.binaryMediaTypes],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      deployOptions: {
        stageName: props.stageName,
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
        tracingEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
    });
    this.originKey = new secretsmanager.Secret(this, 'OriginKey', {
      description: 'CipherTalk: the key CloudFront adds to every REST API request (x-api-key)',
      generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
    });
    this.originKeyValue = SecretValue.secretsManager(
      this.originKey.secretArn,
      props.originKeyVersion ? { versionId: props.originKeyVersion } : {},
    ).unsafeUnwrap();
    const key = this.api.addApiKey('OriginApiKey', {
      description: "Sent by CipherTalk's CloudFront distribution only",
      value: this.originKeyValue,
    });
    const plan = this.api.addUsagePlan('OriginUsagePlan', {
      description: 'CloudFront, the only caller of the REST API',
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    plan.addApiKey(key);

    // The execution log (level ERROR) goes to a group API Gateway would create without a retention.
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${props.stageName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);
    this.#validator = this.api.addRequestValidator('Parameters', {
      requestValidatorName: 'parameters',
      validateRequestParameters: true,
      validateRequestBody: false,
    });
  }

  /** One resource per path segment, one Lambda proxy integration per route, preflight on every resource. */
  addRoutes(props: RestRoutesProps): void {
    const fn = (name: string) => {
      const found = props.functions.get(name);
      if (!found) throw new Error(`route table names function "${name}", which the stack did not create`);
      return found;
    };

    // API Gateway's own 4xx/5xx answers (authorizer denials, throttling, 413, 414) carry nosniff, as every
    // handler answer does, and CORS headers for the site's origin.
    const [siteOrigin] = props.allowedOrigins;
    const gatewayHeaders = {
      'X-Content-Type-Options': "'nosniff'",
      ...(siteOrigin
        ? {
            'Access-Control-Allow-Origin': `'${siteOrigin}'`,
            'Access-Control-Allow-Credentials': "'true'",
            Vary: "'Origin'",
          }
        : {}),
    };
    for (const type of [apigateway.ResponseType.DEFAULT_4XX, apigateway.ResponseType.DEFAULT_5XX]) {
      this.api.addGatewayResponse(`Gateway${type.responseType}`, { type, responseHeaders: gatewayHeaders });
    }

    // An authorizer that fails rather than denies (it threw: the database resuming from 0 ACU; or it timed out)
    // answers 503 unavailable with Retry-After, which the client retries, instead of a bare 500.
    const failure = restApiTable.authorizerFailure;
    for (const type of [
      apigateway.ResponseType.AUTHORIZER_FAILURE,
      apigateway.ResponseType.AUTHORIZER_CONFIGURATION_ERROR,
    ]) {
      this.api.addGatewayResponse(`Gateway${type.responseType}`, {
        type,
        statusCode: String(failure.status),
        responseHeaders: { ...gatewayHeaders, 'Retry-After': `'${failure.retryAfterSeconds}'` },
        templates: { 'application/json': JSON.stringify(failure.body) },
      });
    }

    const jwtRoutes = props.routes.filter((route) => route.auth === 'jwt');
    if (jwtRoutes.length > 0 && !props.authorizer) {
      throw new Error(`routes with auth "jwt" need restApi.authorizer: ${jwtRoutes.map((r) => r.path).join(', ')}`);
    }
    const authorizer = props.authorizer
      ? new apigateway.RequestAuthorizer(this, 'Authorizer', {
          handler: fn(props.authorizer),
          identitySources: [apigateway.IdentitySource.header('Authorization')],
          resultsCacheTtl: Duration.seconds(0),
        })
      : undefined;

    const preflight = new Set<apigateway.Resource>();
    const integrations = new Map<string, apigateway.LambdaIntegration>();
    for (const route of props.routes) {
      const resource = this.api.root.resourceForPath(route.path);
      if (!preflight.has(resource)) {
        preflight.add(resource);
        resource.addCorsPreflight({
          allowOrigins: [...props.allowedOrigins],
          allowMethods: apigateway.Cors.ALL_METHODS,
          allowHeaders: ['Content-Type', 'Authorization'],
          allowCredentials: true,
          maxAge: Duration.hours(1),
        });
      }
      let integration = integrations.get(route.function);
      if (!integration) {
        integration = new apigateway.LambdaIntegration(fn(route.function), {
          proxy: true,
          timeout: Duration.seconds(props.integrationTimeoutSeconds),
          // One permission for the whole API instead of one per method: stays under the policy size limit.
          scopePermissionToMethod: false,
        });
        integrations.set(route.function, integration);
      }
      const pathParameters = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1] ?? '');
      resource.addMethod(route.method, integration, {
        apiKeyRequired: true,
        requestValidator: this.#validator,
        requestParameters: Object.fromEntries(pathParameters.map((p) => [`method.request.path.${p}`, true])),
        ...(route.auth === 'jwt' && authorizer
          ? { authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM }
          : { authorizationType: apigateway.AuthorizationType.NONE }),
      });
    }
  }

  get url(): string {
    return this.api.url.replace(/\/$/, '');
  }
}
