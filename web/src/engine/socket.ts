/**
 * The WebSocket link: a single-use ticket per connection (`POST /auth/ws-ticket`), every server frame checked
 * with the shared `ServerFrame` schema, requests matched to their `ack`/`error` by id, a presence heartbeat,
 * and reconnection with exponential backoff and full jitter.
 */
import { type AckFrame, type ClientFrame, PRESENCE_HEARTBEAT_SECONDS, ServerFrame } from '@ciphertalk/shared/protocol';
import { backoffDelay } from './backoff.ts';
import { EngineError } from './errors.ts';
import { type RetryOptions, withRetries } from './retry.ts';
import type { ConnectionState, WebSocketConstructor, WebSocketLike } from './types.ts';

const OPEN = 1;
const REQUEST_TIMEOUT_MS = 10_000;
/**
 * While open, the link also asks for a catch-up (`onOpen`) this often: frames a server could not deliver
 * live (its connection registry lost this connection, a fan-out failed) are fetched from /sync within this
 * bound even if the socket never drops.
 */
export const CATCH_UP_EVERY_MS = 60_000;

type Outgoing = ClientFrame extends infer F ? (F extends ClientFrame ? Omit<F, 'id'> : never) : never;

/** Frames the server handles once however often they come (a send carries its clientMessageId). */
const REPEATABLE = new Set<Outgoing['action']>(['message.send', 'message.ack', 'receipt.read', 'presence.heartbeat']);

export interface SocketOptions {
  url: string;
  WebSocket: WebSocketConstructor;
  ticket: () => Promise<string>;
  onFrame: (frame: ServerFrame) => void;
  /** The link opened, or it is time for the periodic catch-up: fetch what may have been missed. */
  onOpen: () => void;
  /** Overrides CATCH_UP_EVERY_MS (tests). */
  catchUpEveryMs?: number;
  onState: (state: ConnectionState) => void;
  log: (event: string, detail?: Record<string, unknown>) => void;
  /** How `unavailable` / `rate_limited` error frames are tried again (see retry.ts). */
  retry?: Omit<RetryOptions, 'what' | 'log'>;
}

export class Socket {
  #ws: WebSocketLike | null = null;
  #stopped = true;
  #attempt = 0;
  #nextId = 1;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  #catchUp: ReturnType<typeof setInterval> | null = null;
  readonly #pending = new Map<
    string,
    { resolve: (ack: AckFrame) => void; reject: (error: Error) => void; timer: ReturnType<typeof setTimeout> }
  >();

  constructor(private readonly options: SocketOptions) {}

  get online(): boolean {
    return this.#ws !== null && this.#ws.readyState === OPEN;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#stopHeartbeat();
    const ws = this.#ws;
    this.#ws = null;
    ws?.close(1000, 'client closing');
    this.#failPending(new EngineError('offline', 'Disconnected'));
    this.options.onState('offline');
  }

  /** Reconnects now (e.g. the browser came back online) instead of waiting for the backoff. */
  kick(): void {
    if (this.#stopped || this.online || this.#ws !== null) return;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    void this.#connect();
  }

  /**
   * Sends a frame and resolves with its ack; rejects with the server's error, or when offline or timed out.
   * A repeatable frame answered `unavailable` or `rate_limited` is sent again after the server's delay.
   */
  request(frame: Outgoing): Promise<AckFrame> {
    return withRetries(() => this.#request(frame), {
      ...this.options.retry,
      attempts: REPEATABLE.has(frame.action) ? this.options.retry?.attempts : 1,
      log: this.options.log,
      what: frame.action,
    });
  }

  #request(frame: Outgoing): Promise<AckFrame> {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== OPEN) return Promise.reject(new EngineError('offline', 'Not connected'));
    const id = `c${this.#nextId++}`;
    return new Promise<AckFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new EngineError('timeout', `No answer to ${frame.action}`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    this.options.onState('connecting');
    let ticket: string;
    try {
      ticket = await this.options.ticket();
    } catch (error) {
      this.options.log('ws.ticket_failed', { error: String(error) });
      this.#scheduleReconnect();
      return;
    }
    if (this.#stopped) return;
    const separator = this.options.url.includes('?') ? '&' : '?';
    let ws: WebSocketLike;
    try {
      ws = new this.options.WebSocket(`${this.options.url}${separator}ticket=${encodeURIComponent(ticket)}`);
    } catch (error) {
      this.options.log('ws.construct_failed', { error: String(error) });
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#attempt = 0;
      this.options.onState('online');
      this.#startHeartbeat();
      this.options.onOpen();
    };
    ws.onmessage = (event) => {
      if (this.#ws !== ws) return;
      this.#receive(event.data);
    };
    ws.onerror = () => undefined;
    ws.onclose = (event) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#stopHeartbeat();
      this.#failPending(new EngineError('offline', 'Disconnected'));
      this.options.log('ws.closed', { code: event.code });
      this.options.onState(this.#stopped ? 'offline' : 'connecting');
      this.#scheduleReconnect();
    };
  }

  #receive(data: unknown): void {
    let json: unknown;
    try {
      json = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      this.options.log('ws.bad_frame');
      return;
    }
    const parsed = ServerFrame.safeParse(json);
    if (!parsed.success) {
      this.options.log('ws.invalid_frame', { type: (json as { type?: unknown })?.type });
      return;
    }
    const frame = parsed.data;
    if (frame.type === 'ack' || (frame.type === 'error' && frame.id !== null)) {
      const pending = this.#pending.get(frame.id as string);
      if (pending) {
        this.#pending.delete(frame.id as string);
        clearTimeout(pending.timer);
        if (frame.type === 'ack') pending.resolve(frame);
        else if (frame.error.code === 'unauthorized') {
          // The server no longer knows this connection (its registry lost it, or it raced our $connect): the
          // request was not served. Reconnect with a fresh ticket; the caller retries it as if offline.
          pending.reject(new EngineError('offline', 'Reconnecting'));
          this.#reconnect();
        } else {
          const { code, message, issues, retryAfterSeconds, devices } = frame.error;
          pending.reject(new EngineError(code, message, { issues, retryAfterSeconds, devices }));
        }
        return;
      }
    }
    this.options.onFrame(frame);
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnectTimer) return;
    const delay = backoffDelay(this.#attempt++);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#connect();
    }, delay);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    const beat = () => void this.request({ action: 'presence.heartbeat' }).catch(() => undefined);
    beat();
    this.#heartbeat = setInterval(beat, PRESENCE_HEARTBEAT_SECONDS * 1000);
    this.#catchUp = setInterval(() => this.options.onOpen(), this.options.catchUpEveryMs ?? CATCH_UP_EVERY_MS);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#catchUp) clearInterval(this.#catchUp);
    this.#heartbeat = null;
    this.#catchUp = null;
  }

  /** Drops the current socket (its close schedules the reconnect, with a fresh ticket). */
  #reconnect(): void {
    const ws = this.#ws;
    if (ws && ws.readyState === OPEN) ws.close(4000, 'reconnecting');
  }

  #failPending(error: Error): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(id);
    }
  }
}
