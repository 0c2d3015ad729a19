import { describe, expect, it, vi } from 'vitest';
import { EngineError } from '../../src/engine/errors.ts';
import { Socket } from '../../src/engine/socket.ts';
import type { WebSocketLike } from '../../src/engine/types.ts';

/** A WebSocket the test drives: it opens when told to and records what the client sent. */
class FakeWebSocket implements WebSocketLike {
  static made: FakeWebSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  constructor(readonly url: string) {
    FakeWebSocket.made.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  serverSends(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

const until = async (condition: () => boolean) => {
  await vi.waitFor(() => expect(condition()).toBe(true), { timeout: 5_000, interval: 5 });
};

function link(options: { catchUpEveryMs?: number } = {}) {
  FakeWebSocket.made = [];
  let tickets = 0;
  const opens: number[] = [];
  const socket = new Socket({
    url: 'ws://test/local',
    WebSocket: FakeWebSocket,
    ticket: async () => `ticket-${++tickets}`,
    onFrame: () => undefined,
    onOpen: () => opens.push(Date.now()),
    onState: () => undefined,
    log: () => undefined,
    ...options,
  });
  return { socket, opens, tickets: () => tickets };
}

describe('Socket', () => {
  it('answers a request refused as `unauthorized` by reconnecting with a fresh ticket, and fails it as offline (retried)', async () => {
    const { socket, tickets } = link();
    socket.start();
    await until(() => FakeWebSocket.made.length === 1);
    const first = FakeWebSocket.made[0] as FakeWebSocket;
    first.open();
    const request = socket.request({ action: 'typing', conversationId: crypto.randomUUID(), state: 'start' });
    const id = first.sent.find((frame) => frame.action === 'typing')?.id;
    first.serverSends({ type: 'error', id, error: { code: 'unauthorized', message: 'Reconnect' } });
    const error = await request.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('offline');
    expect(first.readyState).toBe(3);
    await until(() => FakeWebSocket.made.length === 2);
    expect(tickets()).toBe(2);
    expect(FakeWebSocket.made[1]?.url).toContain('ticket=ticket-2');
    socket.stop();
  });

  it('asks for a catch-up periodically while open, not only when the socket opens', async () => {
    const { socket, opens } = link({ catchUpEveryMs: 20 });
    socket.start();
    await until(() => FakeWebSocket.made.length === 1);
    (FakeWebSocket.made[0] as FakeWebSocket).open();
    await until(() => opens.length >= 3);
    socket.stop();
    const stopped = opens.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(opens.length).toBe(stopped);
  });
});
