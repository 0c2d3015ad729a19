import type { HttpMethod, RestRoute } from '@ciphertalk/shared/routes';

export interface MatchedRoute {
  readonly route: RestRoute;
  readonly method: HttpMethod;
  readonly params: Record<string, string>;
}

export interface RouteMatcher {
  (method: string, path: string): MatchedRoute | null;
  /** Every method declared on the resource at `path` (for CORS preflight). */
  methodsAt(path: string): HttpMethod[];
}

interface Compiled {
  readonly route: RestRoute;
  readonly pattern: RegExp;
  readonly names: string[];
  /** Literal segments outrank `{param}`, which outranks `{proxy+}`, as in API Gateway. */
  readonly rank: number[];
}

/** Resource-path matching with API Gateway's precedence; path parameters arrive URL-decoded. */
export function compileRoutes(routes: readonly RestRoute[]): RouteMatcher {
  const compiled: Compiled[] = routes.map((route) => {
    const names: string[] = [];
    const rank: number[] = [];
    const source = route.path
      .split('/')
      .slice(1)
      .map((segment) => {
        const greedy = /^\{(\w+)\+\}$/.exec(segment);
        if (greedy?.[1]) {
          names.push(greedy[1]);
          rank.push(0);
          return '(.+)';
        }
        const param = /^\{(\w+)\}$/.exec(segment);
        if (param?.[1]) {
          names.push(param[1]);
          rank.push(1);
          return '([^/]+)';
        }
        rank.push(2);
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    return { route, pattern: new RegExp(`^/${source}/?$`), names, rank };
  });

  const candidates = (path: string) =>
    compiled
      .map((c) => ({ c, m: c.pattern.exec(path) }))
      .filter((x): x is { c: Compiled; m: RegExpExecArray } => x.m !== null)
      .sort((a, b) => compareRank(b.c.rank, a.c.rank));

  const matcher = ((method: string, path: string) => {
    const all = candidates(path);
    const best = all[0];
    if (!best) return null;
    // API Gateway picks the most specific resource first, then looks for the method on it.
    const sameResource = all.filter((x) => x.c.route.path === best.c.route.path);
    const hit = sameResource.find((x) => x.c.route.method === method);
    if (!hit) return null;
    const params: Record<string, string> = {};
    hit.c.names.forEach((name, i) => {
      params[name] = safeDecode(hit.m[i + 1] ?? '');
    });
    return { route: hit.c.route, method: hit.c.route.method, params };
  }) as RouteMatcher;

  matcher.methodsAt = (path) => {
    const best = candidates(path)[0];
    if (!best) return [];
    return compiled.filter((c) => c.route.path === best.c.route.path).map((c) => c.route.method);
  };
  return matcher;
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? -1) - (b[i] ?? -1);
    if (diff !== 0) return diff;
  }
  return 0;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
