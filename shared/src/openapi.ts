/**
 * The OpenAPI 3.1 description of the REST API, generated from the two sources of truth: the route table
 * (paths, methods, which routes need the JWT) and the zod schemas of `protocol/contract.ts` (bodies, query
 * strings, path parameters, answers), with zod's own JSON Schema output (`z.toJSONSchema`). Runtime-neutral.
 */
import { z } from 'zod';
import { type RouteContract, restContract } from './protocol/contract.ts';
import { ErrorBody } from './protocol/errors.ts';
import { restApi } from './routes.ts';

type JsonSchema = Record<string, unknown>;

const schemaOf = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

/** Query and path parameters from a z.object's properties. */
function parameters(schema: z.ZodType | undefined, where: 'query' | 'path'): JsonSchema[] {
  if (!schema) return [];
  const json = schemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

const errorAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
});

const statusText: Record<number, string> = {
  400: 'Invalid request (validation_failed, invalid_json, weak_password, invalid_token, invalid_key)',
  401: 'Not authenticated',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  429: 'Rate limited (see Retry-After)',
  503: 'A dependency is down or restarting (unavailable): retry after Retry-After',
};

function operation(key: string, contract: RouteContract, jwt: boolean): JsonSchema {
  const [status, body] = contract.success;
  const responses: Record<string, unknown> = {
    [status]: body
      ? { description: 'Success', content: { 'application/json': { schema: schemaOf(body, 'output') } } }
      : { description: 'Success' },
    400: errorAnswer(statusText[400] as string),
    503: errorAnswer(statusText[503] as string),
  };
  for (const code of [...(jwt ? [401] : []), ...(contract.errors ?? [])]) {
    responses[code] = errorAnswer(statusText[code] ?? 'Error');
  }
  return {
    operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, ''),
    summary: contract.summary,
    ...(jwt ? { security: [{ bearer: [] }] } : { security: [] }),
    parameters: [...parameters(contract.path, 'path'), ...parameters(contract.query, 'query')],
    ...(contract.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOf(contract.body, 'input') } },
          },
        }
      : {}),
    ...(contract.cookie === 'reads' ? { 'x-refresh-cookie': 'reads ct_refresh' } : {}),
    responses,
  };
}

export function openApiDocument(options: { serverUrl?: string } = {}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of restApi.routes) {
    const key = `${route.method} ${route.path}`;
    const contract = (restContract as Record<string, RouteContract>)[key];
    if (!contract) throw new Error(`no contract for ${key} in protocol/contract.ts`);
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, JsonSchema>)[route.method.toLowerCase()] = operation(
      key,
      contract,
      route.auth === 'jwt',
    );
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CipherTalk REST API',
      version: '1',
      description:
        'Access tokens (JWT, HS256, 15 min) go in `Authorization: Bearer`. The refresh token travels only in the ' +
        '`ct_refresh` cookie (HttpOnly; Secure; SameSite=Strict; Path=/auth), set by register, login and refresh.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { ErrorBody: schemaOf(ErrorBody, 'output') },
    },
    paths,
  };
}
