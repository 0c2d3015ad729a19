/**
 * The typed REST client: `api.call('GET /sync', { query })`. The route key is the contract's
 * (`shared/src/protocol/contract.ts`), so the URL is built from it and the answer is parsed with the route's
 * response schema: a server that answers off-contract is an `off_contract` error, reported, never state.
 *
 * `503 unavailable` and `429 rate_limited` are tried again after the server's `retryAfterSeconds` (or
 * `Retry-After`), with capped exponential backoff, for requests that are safe to repeat: GET, PUT and DELETE,
 * and sends that carry a `clientMessageId`. Meanwhile `retrying` is raised (the UI shows "Connecting…").
 *
 * Zod-free at load time: the schemas come with a dynamic `import()` of `contract-check.ts` on the first
 * answer, so this file may sit in the first-paint bundle.
 */
import type { restContract } from '@ciphertalk/shared/protocol';
import type { z } from 'zod';
import { EngineError } from './errors.ts';
import type { Answer, Api, RequestOptions, SessionAnswer } from './http.ts';
import { type RetryOptions, withRetries } from './retry.ts';

type Contract = typeof restContract;
export type RouteKey = keyof Contract;

type Params<K extends RouteKey> = Contract[K] extends { readonly path: infer S extends z.ZodType }
  ? { path: Record<keyof z.output<S>, string | number> }
  : { path?: undefined };
type Query<K extends RouteKey> = Contract[K] extends { readonly query: infer S extends z.ZodType }
  ? { query?: Partial<z.output<S>> }
  : { query?: undefined };
type Body<K extends RouteKey> = Contract[K] extends { readonly body: infer S extends z.ZodType }
  ? { body: z.input<S> }
  : { body?: undefined };

/** What a route takes: its path parameters, query and body, each only where the contract has one. */
export type CallInput<K extends RouteKey> = Params<K> & Query<K> & Body<K> & { auth?: boolean };
/** What a route answers on success. */
export type CallOutput<K extends RouteKey> = Contract[K]['success'][1] extends z.ZodType
  ? z.output<Contract[K]['success'][1]>
  : undefined;

type Args<K extends RouteKey> = object extends CallInput<K> ? [input?: CallInput<K>] : [input: CallInput<K>];

/** Checks an answer against the route's contract; throws `off_contract`. */
export type Checker = (key: RouteKey, answer: Answer) => unknown;

export interface ApiClientOptions extends Omit<RetryOptions, 'what'> {
  /** Defaults to the contract's schemas, loaded on first use. */
  check?: (key: RouteKey, answer: Answer) => Promise<unknown>;
}

const lazyCheck = async (key: RouteKey, answer: Answer) => (await import('./contract-check.ts')).check(key, answer);

/** `GET /users/{userId}` and `{ userId }` → `/users/u1`. */
export function urlOf(template: string, path: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = path[name];
    if (value === undefined) throw new EngineError('invalid', `${template} needs ${name}`);
    return encodeURIComponent(String(value));
  });
}

/** Safe to send twice: the server answers a repeat with the first result. */
function repeatable(method: string, body: unknown): boolean {
  if (method === 'GET' || method === 'PUT' || method === 'DELETE') return true;
  return typeof body === 'object' && body !== null && 'clientMessageId' in body;
}

export class ApiClient {
  readonly #check: (key: RouteKey, answer: Answer) => Promise<unknown>;
  readonly #options: ApiClientOptions;

  constructor(
    readonly http: Api,
    options: ApiClientOptions = {},
  ) {
    this.#options = options;
    this.#check = options.check ?? lazyCheck;
    http.checkSession = async (answer) => (await this.#check('POST /auth/refresh', answer)) as SessionAnswer;
  }

  async call<K extends RouteKey>(key: K, ...[input]: Args<K>): Promise<CallOutput<K>> {
    const { path, query, body, auth } = (input ?? {}) as {
      path?: Record<string, string | number>;
      query?: RequestOptions['query'];
      body?: unknown;
      auth?: boolean;
    };
    const space = key.indexOf(' ');
    const method = key.slice(0, space);
    const url = urlOf(key.slice(space + 1), path);
    const answer = await withRetries(() => this.http.send(method, url, body, { query, auth }), {
      ...this.#options,
      attempts: repeatable(method, body) ? (this.#options.attempts ?? 5) : 1,
      what: key,
    });
    try {
      return (await this.#check(key, answer)) as CallOutput<K>;
    } catch (error) {
      this.#options.log?.('api.off_contract', { key, status: answer.status, error: String(error) });
      throw error;
    }
  }
}
