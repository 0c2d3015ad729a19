import { describe, expect, it } from 'vitest';
import { functions, restApi, webSocketApi } from '../src/routes.ts';

describe('route table', () => {
  it('names a declared function for every REST route and WebSocket route key', () => {
    const declared = new Set(Object.keys(functions));
    for (const route of [...restApi.routes, ...webSocketApi.routes]) {
      expect(declared.has(route.function), route.function).toBe(true);
    }
  });

  it('has no duplicate REST method+path or WebSocket route key', () => {
    const rest = restApi.routes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(rest).size).toBe(rest.length);
    const keys = webSocketApi.routes.map((r) => r.routeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('declares the three WebSocket lifecycle routes', () => {
    const keys = webSocketApi.routes.map((r) => r.routeKey);
    expect(keys).toEqual(expect.arrayContaining(['$connect', '$disconnect', '$default']));
  });

  it('uses only API Gateway path syntax: literal segments, {param} and a final {proxy+}', () => {
    for (const { path } of restApi.routes) {
      const segments = path.split('/').slice(1);
      segments.forEach((segment, i) => {
        const greedy = /^\{[a-zA-Z]\w*\+\}$/.test(segment);
        expect(greedy ? i === segments.length - 1 : /^([\w.-]+|\{[a-zA-Z]\w*\})$/.test(segment), path).toBe(true);
      });
    }
  });
});
