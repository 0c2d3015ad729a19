import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AUTHORIZER_RETRY_SECONDS, AUTHORIZER_UNAVAILABLE_BODY } from '../gateway-responses.ts';

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
}

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
  readonly #validator: apigateway.RequestValidator;

  constructor(scope: Construct, id: string, props: RestApiProps) {
    super(scope, id);

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: props.name,
      description: 'CipherTalk REST API (built from shared/src/routes.ts)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      binaryMediaTypes: [...props.binaryMediaTypes],
      cloudWatchRole: true,
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

    // An authorizer that throws or times out (its database down or restarting) is a retryable 503, not a 500.
    this.api.addGatewayResponse('GatewayAuthorizerFailure', {
      type: apigateway.ResponseType.AUTHORIZER_FAILURE,
      statusCode: '503',
      responseHeaders: { ...gatewayHeaders, 'Retry-After': `'${AUTHORIZER_RETRY_SECONDS}'` },
      templates: { 'application/json': AUTHORIZER_UNAVAILABLE_BODY },
    });

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
