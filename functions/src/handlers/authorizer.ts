import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { accessTokens } from '#adapters/clients/access-tokens.ts';
import { db } from '#adapters/clients/db.ts';
import { authenticate } from '#domain/sessions.ts';
import { logger } from '#lib/observability.ts';
import { toAuthorizerContext } from '#lib/principal.ts';
import { systemClock } from '#ports/clock.ts';

/**
 * The REST API's REQUEST authorizer for every `auth: 'jwt'` route: `Authorization: Bearer <access token>`,
 * a valid HS256 JWT whose session is still live. Anything else throws `Unauthorized` (API Gateway's 401).
 * The policy allows the whole API (`.../stage/*`), so a cached answer serves every route; the CDK stack
 * should still disable authorizer caching (TTL 0), or a revoked session keeps working until the cache expires.
 */
export const handler = middy<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
    const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(header ?? '');
    const principal = match?.[1]
      ? await authenticate({ db: db(), tokens: await accessTokens(), clock: systemClock }, match[1])
      : null;
    if (!principal) {
      logger.info('authorizer denied');
      throw new Error('Unauthorized');
    }
    const [arn, stage] = event.methodArn.split('/');
    return {
      principalId: principal.userId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${arn}/${stage}/*` }],
      },
      context: toAuthorizerContext(principal),
    };
  });
