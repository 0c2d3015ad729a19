import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/openapi.ts';
import { restContract } from '../src/protocol/contract.ts';
import { restApi } from '../src/routes.ts';

type Operation = {
  security: unknown[];
  parameters: { name: string; in: string; required: boolean }[];
  requestBody?: { content: { 'application/json': { schema: Record<string, unknown> } } };
  responses: Record<string, { content?: unknown }>;
};
const doc = openApiDocument({ serverUrl: 'https://api.example.test' }) as {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
};
const op = (method: string, path: string) => doc.paths[path]?.[method.toLowerCase()] as Operation;

describe('OpenAPI document', () => {
  it('has a contract for every route of the route table, and no contract without a route', () => {
    const routes = restApi.routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(Object.keys(restContract).sort()).toEqual(routes);
  });

  it('describes every route, with bearer security exactly on the JWT routes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: 'https://api.example.test' }]);
    for (const route of restApi.routes) {
      const operation = op(route.method, route.path);
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation.security).toEqual(route.auth === 'jwt' ? [{ bearer: [] }] : []);
      if (route.auth === 'jwt') expect(operation.responses['401']).toBeDefined();
    }
  });

  it('declares every {param} of a path as a required path parameter', () => {
    for (const route of restApi.routes) {
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = op(route.method, route.path)
        .parameters.filter((p) => p.in === 'path')
        .map((p) => p.name);
      expect(declared.sort(), route.path).toEqual(names.sort());
    }
  });

  it('carries the zod schemas: bounds, formats and query parameters', () => {
    const register = op('POST', '/auth/register').requestBody?.content['application/json'].schema as {
      properties: Record<string, { minLength?: number }>;
      required: string[];
    };
    expect(register.properties.password?.minLength).toBe(12);
    expect(register.required).toEqual(['email', 'password', 'displayName']);
    expect(op('GET', '/users').parameters).toContainEqual(
      expect.objectContaining({ name: 'query', in: 'query', required: true }),
    );
    expect(op('GET', '/me/audit').parameters).toContainEqual(
      expect.objectContaining({ name: 'limit', in: 'query', required: false }),
    );
    expect(JSON.stringify(op('GET', '/users/{userId}/prekey-bundles').responses['200'])).toContain('"format":"uuid"');
    expect(op('POST', '/auth/logout').responses['204']?.content).toBeUndefined();
  });
});
