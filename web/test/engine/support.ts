/// <reference types="node" />
/// <reference path="../../../infra/local/types.d.ts" />
/**
 * Engines in Node against the real local stack: a fetch that keeps the refresh cookie like a browser (and
 * can be cut off, or lose one answer, to test the outbox), the `ws` WebSocket, a fake IndexedDB database
 * per engine, and `eventually` for what arrives asynchronously.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine, MessageView, WebSocketConstructor } from '../../src/engine/types.ts';

export interface Network {
  fetch: typeof fetch;
  WebSocket: WebSocketConstructor;
  offline: boolean;
  /** The next answer to a request whose path matches is lost after the server handled it. */
  loseAnswerTo(pattern: RegExp): void;
  /** Cuts the network: requests fail and open sockets drop. */
  goOffline(): void;
  /** WebSockets only (REST still works): open sockets drop and new ones fail. */
  blockSockets(blocked: boolean): void;
  goOnline(): void;
}

export function network(): Network {
  let cookie: string | null = null;
  const sockets = new Set<WebSocket>();
  const lose: RegExp[] = [];
  let socketsBlocked = false;
  const net: Network = {
    offline: false,
    fetch: async (input, init) => {
      const url = new URL(String(input));
      if (net.offline) throw new TypeError('fetch failed');
      const headers = new Headers(init?.headers);
      if (cookie && url.pathname.startsWith('/auth')) headers.set('cookie', `ct_refresh=${cookie}`);
      const response = await fetch(url, { ...init, headers });
      for (const value of response.headers.getSetCookie()) {
        const match = /^ct_refresh=([^;]*)/.exec(value);
        if (match) cookie = match[1] || null;
      }
      const lost = lose.findIndex((pattern) => pattern.test(`${init?.method ?? 'GET'} ${url.pathname}`));
      if (lost !== -1) {
        lose.splice(lost, 1);
        await response.arrayBuffer();
        throw new TypeError('fetch failed (answer lost)');
      }
      return response;
    },
    WebSocket: class extends WebSocket {
      constructor(url: string) {
        super(url);
        if (net.offline || socketsBlocked) {
          queueMicrotask(() => this.terminate());
          return;
        }
        sockets.add(this);
        this.on('close', () => sockets.delete(this));
      }
    } as unknown as WebSocketConstructor,
    loseAnswerTo(pattern) {
      lose.push(pattern);
    },
    goOffline() {
      net.offline = true;
      for (const socket of sockets) socket.terminate();
    },
    goOnline() {
      net.offline = false;
    },
    blockSockets(blocked) {
      socketsBlocked = blocked;
      if (blocked) for (const socket of sockets) socket.terminate();
    },
  };
  return net;
}

export interface Person {
  engine: Engine;
  net: Network;
  email: string;
  password: string;
  id: string;
  dbPrefix: string;
  /** The engines' diagnostic events (`devices.changed`, `sender_key.rotated`, ...), in order. */
  events: string[];
  /** A second engine on the same IndexedDB and cookie: what a reload of the page gives. */
  reload(): Promise<Engine>;
}

export const password = () => `pw-${randomBytes(12).toString('base64url')}`;

export function engineFor(
  urls: { restUrl: string; wsUrl: string },
  net: Network,
  dbPrefix: string,
  events: string[] = [],
): Engine {
  return createEngine({
    log: (event, detail) => {
      events.push(event);
      if (process.env.ENGINE_DEBUG) console.log(dbPrefix, event, JSON.stringify(detail ?? {}));
    },
    apiUrl: urls.restUrl,
    wsUrl: urls.wsUrl,
    fetch: net.fetch,
    WebSocket: net.WebSocket,
    dbPrefix,
    deviceName: 'Test browser',
  });
}

export async function person(urls: { restUrl: string; wsUrl: string }, label: string): Promise<Person> {
  const net = network();
  const dbPrefix = `${label}-${randomBytes(4).toString('hex')}-`;
  const events: string[] = [];
  const engine = engineFor(urls, net, dbPrefix, events);
  const email = `${label}-${randomBytes(4).toString('hex')}@example.test`;
  const pw = password();
  await engine.register({ email, password: pw, displayName: label });
  const me = engine.me.value;
  if (!me) throw new Error('registered but no user');
  const p: Person = {
    engine,
    net,
    email,
    password: pw,
    id: me.id,
    dbPrefix,
    events,
    async reload() {
      await p.engine.close();
      p.engine = engineFor(urls, net, dbPrefix, events);
      await p.engine.resume();
      return p.engine;
    },
  };
  return p;
}

/** Waits until `check` stops throwing (it runs `engine.refresh()`-free: live delivery must do the work). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export function messages(engine: Engine, conversationId: string): MessageView[] {
  return engine.timeline(conversationId).value.items.filter((i): i is MessageView => i.kind === 'message');
}

export function texts(engine: Engine, conversationId: string): string[] {
  return messages(engine, conversationId).map((m) => m.text);
}

/** The same user logging in from another browser: its own cookie, IndexedDB and device. */
export async function anotherBrowser(
  urls: { restUrl: string; wsUrl: string },
  who: Person,
  label: string,
): Promise<Person> {
  const net = network();
  const dbPrefix = `${label}-${randomBytes(4).toString('hex')}-`;
  const events: string[] = [];
  const engine = engineFor(urls, net, dbPrefix, events);
  await engine.login({ email: who.email, password: who.password });
  const p: Person = {
    ...who,
    engine,
    net,
    dbPrefix,
    events,
    async reload() {
      await p.engine.close();
      p.engine = engineFor(urls, net, dbPrefix, events);
      await p.engine.resume();
      return p.engine;
    },
  };
  return p;
}
