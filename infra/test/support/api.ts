import { randomBytes } from 'node:crypto';

/** A small REST client for tests through the twin: JSON in and out, and the refresh cookie kept like a browser. */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> & { error?: { code: string; message: string } };
  readonly text: string;
}

export class ApiClient {
  /** The refresh cookie's value, as a browser would keep it (null after it was cleared). */
  refreshCookie: string | null = null;
  accessToken: string | null = null;

  constructor(
    readonly baseUrl: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async call(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<ApiAnswer> {
    const headers: Record<string, string> = { ...this.headers, ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.accessToken && !('authorization' in headers)) headers.authorization = `Bearer ${this.accessToken}`;
    if (this.refreshCookie && path.startsWith('/auth')) headers.cookie = `ct_refresh=${this.refreshCookie}`;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const match = /^ct_refresh=([^;]*)/.exec(cookie);
      if (match) this.refreshCookie = match[1] || null;
    }
    const text = await response.text();
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { raw: text };
    }
    const answer = { status: response.status, headers: response.headers, body: parsed as ApiAnswer['body'], text };
    if (typeof answer.body.accessToken === 'string') this.accessToken = answer.body.accessToken;
    return answer;
  }

  get = (path: string, extra?: Record<string, string>) => this.call('GET', path, undefined, extra);
  post = (path: string, body?: unknown, extra?: Record<string, string>) => this.call('POST', path, body, extra);
  patch = (path: string, body?: unknown) => this.call('PATCH', path, body);
  put = (path: string, body?: unknown) => this.call('PUT', path, body);
  delete = (path: string) => this.call('DELETE', path);
}

export const uniqueEmail = (label = 'user') => `${label}-${randomBytes(4).toString('hex')}@example.test`;
export const strongPassword = () => `pw-${randomBytes(12).toString('base64url')}`;

/** Registers a fresh user; the client then holds its access token and refresh cookie. */
export async function registered(baseUrl: string, label = 'user') {
  const client = new ApiClient(baseUrl);
  const email = uniqueEmail(label);
  const password = strongPassword();
  const answer = await client.post('/auth/register', { email, password, displayName: `${label} name` });
  if (answer.status !== 201) throw new Error(`register failed: ${answer.status} ${answer.text}`);
  const user = answer.body.user as { id: string };
  return { client, email, password, userId: user.id };
}
