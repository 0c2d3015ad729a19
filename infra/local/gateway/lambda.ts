import { randomBytes, randomUUID } from 'node:crypto';
import { type FunctionName, functions } from '@ciphertalk/shared/routes';
import type { Context } from 'aws-lambda';

/** A Lambda handler as API Gateway invokes it: event and context in, result out. */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;
/** Finds the handler behind a function named in the route table. */
export type HandlerResolver = (name: FunctionName) => Promise<LambdaHandler>;

const region = process.env.AWS_REGION ?? 'us-east-1';
const account = '000000000000';

/** Imports `functions/src/handlers/<name>.ts` — the same file the CDK stack bundles. */
export const resolveFunctionsPackage: HandlerResolver = async (name) => {
  const module = (await import(`@ciphertalk/functions/handlers/${name}.ts`)) as { handler?: LambdaHandler };
  if (typeof module.handler !== 'function') throw new Error(`functions/src/handlers/${name}.ts exports no handler`);
  return module.handler;
};

export function lambdaContext(name: FunctionName, requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = `ciphertalk-local-${name}`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: String(functions[name].memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export type Invocation =
  | { readonly outcome: 'result'; readonly result: unknown }
  | { readonly outcome: 'error'; readonly error: unknown }
  | { readonly outcome: 'timeout' };

/**
 * Invokes a handler the way the Lambda service does: a fresh request id and
 * context per call, and a timeout (the function's own, capped by the caller's,
 * e.g. API Gateway's 29 s REST integration limit). Never throws.
 */
export async function invoke(
  resolve: HandlerResolver,
  name: FunctionName,
  event: unknown,
  capSeconds = Number.POSITIVE_INFINITY,
): Promise<Invocation> {
  const timeoutMs = Math.min(functions[name].timeoutSeconds, capSeconds) * 1000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const handler = await resolve(name);
    const timeout = new Promise<Invocation>((done) => {
      timer = setTimeout(() => done({ outcome: 'timeout' }), timeoutMs);
    });
    const run = handler(event, lambdaContext(name, randomUUID(), timeoutMs)).then(
      (result): Invocation => ({ outcome: 'result', result }),
      (error: unknown): Invocation => ({ outcome: 'error', error }),
    );
    return await Promise.race([run, timeout]);
  } catch (error) {
    return { outcome: 'error', error };
  } finally {
    clearTimeout(timer);
  }
}

/** API Gateway's request ids are UUIDs; its WebSocket connection ids are 12 base64 characters. */
export const newRequestId = (): string => randomUUID();
export const newConnectionId = (): string => `${randomBytes(8).toString('base64').slice(0, 11)}=`;
export const newApiId = (): string => randomBytes(5).toString('hex');

export function requestTime(date = new Date()): string {
  // API Gateway's format: 09/Apr/2015:12:34:56 +0000
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
