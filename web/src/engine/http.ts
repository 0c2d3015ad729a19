/**
 * The REST transport: JSON in and out, the access token in memory, the refresh token only in the httpOnly
 * cookie (`credentials: 'include'`). A 401 on an authenticated call refreshes once (one refresh in flight at
 * a time: the server revokes a session whose refresh token is presented twice) and retries.
 * No zod here: this file is in the first-paint bundle. The engine calls routes through `api-client.ts`, which
 * builds the URL from the route key and checks every answer against the shared contract.
 */
import { type DeviceMismatch, EngineError } from './errors.ts';

export interface SessionAnswer {
  accessToken: string;
  expiresIn: number;
  user: { id: string; email: string; displayName: string; createdAt: string };
}

export interface RequestOptions {
  /** Send the access token (default true). */
  auth?: boolean;
  query?: Record<string, string | number | undefined>;
}

/** A successful answer: its status and parsed JSON body (undefined when empty). */
export interface Answer {
  status: number;
  body: unknown;
}

export class Api {
  accessToken: string | null = null;
  #refreshing: Promise<SessionAnswer | null> | null = null;
  /** Called when the session is gone for good (refresh refused). */
  onSignedOut: () => void = () => undefined;
  /** Called with every fresh session answer (login, register, refresh). */
  onSession: (session: SessionAnswer) => void = () => undefined;
  /** Checks the refresh answer against the contract (set by the typed client; the refresh runs here). */
  checkSession: (answer: Answer) => Promise<SessionAnswer> = async (answer) => answer.body as SessionAnswer;

  constructor(
    readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch,
  ) {}

  /** One request: a 2xx answer, or an `EngineError` carrying the server's error code. */
  async send(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<Answer> {
    const auth = options.auth ?? true;
    let response = await this.#send(method, path, body, options);
    if (response.status === 401 && auth) {
      const session = await this.refresh();
      if (session === null) throw await errorOf(response);
      response = await this.#send(method, path, body, options);
    }
    if (!response.ok) throw await errorOf(response);
    if (response.status === 204) return { status: 204, body: undefined };
    const text = await response.text();
    try {
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    } catch (cause) {
      throw new EngineError('off_contract', `${method} ${path} answered something that is not JSON`, { cause });
    }
  }

  /** Rotates the refresh cookie; null when there is no live session. One refresh at a time. */
  refresh(): Promise<SessionAnswer | null> {
    this.#refreshing ??= (async () => {
      try {
        // Tabs share the cookie: two refreshes with one token would revoke the session, so one at a time.
        const session = await withWebLock('ciphertalk-refresh', async () =>
          this.checkSession(await this.send('POST', '/auth/refresh', undefined, { auth: false })),
        );
        this.accept(session);
        return session;
      } catch (error) {
        if (error instanceof EngineError && (error.status === 401 || error.status === 403)) {
          this.accessToken = null;
          this.onSignedOut();
          return null;
        }
        throw error;
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  accept(session: SessionAnswer): void {
    this.accessToken = session.accessToken;
    this.onSession(session);
  }

  async #send(method: string, path: string, body: unknown, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if ((options.auth ?? true) && this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    let url = `${this.baseUrl}${path}`;
    const query = Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined);
    if (query.length > 0) url += `?${new URLSearchParams(query.map(([k, v]) => [k, String(v)])).toString()}`;
    try {
      return await this.fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'include',
      });
    } catch (cause) {
      throw new EngineError('network', 'The server cannot be reached', { cause });
    }
  }
}

async function errorOf(response: Response): Promise<EngineError> {
  let code = `http_${response.status}`;
  let message = `The server answered ${response.status}`;
  let issues: { path: string; message: string }[] | undefined;
  let devices: DeviceMismatch | undefined;
  const header = Number(response.headers?.get?.('retry-after') ?? Number.NaN);
  let retryAfterSeconds = Number.isFinite(header) ? header : undefined;
  try {
    const body = (await response.json()) as {
      error?: {
        code?: string;
        message?: string;
        issues?: typeof issues;
        retryAfterSeconds?: number;
        devices?: DeviceMismatch;
      };
    };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    issues = body.error?.issues;
    devices = body.error?.devices;
    retryAfterSeconds = body.error?.retryAfterSeconds ?? retryAfterSeconds;
  } catch {
    // not JSON (API Gateway's own answers are {"message": ...}); keep the generic error
  }
  return new EngineError(code, message, { status: response.status, issues, devices, retryAfterSeconds });
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** Runs `work` under a Web Lock shared by the tabs of this origin, where the browser has them. */
export function withWebLock<T>(name: string, work: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  return locks ? locks.request(name, work) : work();
}
