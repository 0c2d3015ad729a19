import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { type RouteContract, restContract } from '../src/protocol/contract.ts';
import { restApi } from '../src/routes.ts';

/** One contract per route, read by both ends: the handlers take their schemas from it, the client its URLs. */
describe('the REST contract', () => {
  const keys = Object.keys(restContract) as (keyof typeof restContract)[];

  it('has an entry for every route of the route table, and a route for every entry', () => {
    const routes = new Set(restApi.routes.map((r) => `${r.method} ${r.path}`));
    expect(keys.filter((k) => !routes.has(k))).toEqual([]);
    expect([...routes].filter((r) => !(r in restContract))).toEqual([]);
  });

  it("declares exactly the path parameters of each route's resource path", () => {
    for (const key of keys) {
      const entry = restContract[key] as RouteContract;
      const inTemplate = [...key.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = entry.path ? Object.keys((entry.path as z.ZodObject).shape).sort() : [];
      expect(declared, key).toEqual(inTemplate);
    }
  });
});
