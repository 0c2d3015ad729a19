import type { FunctionName } from '@ciphertalk/shared/routes';
import type { HandlerResolver, LambdaHandler } from '../../local/gateway/lambda.ts';

/** A resolver serving fixture handlers under route-table function names, for testing the twin alone. */
export function fixtureResolver(handlers: Partial<Record<FunctionName, LambdaHandler>>): HandlerResolver {
  return async (name) => {
    const handler = handlers[name];
    if (!handler) throw new Error(`no fixture for ${name}`);
    return handler;
  };
}

export async function fetchJson(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body, text };
}
