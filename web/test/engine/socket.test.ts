/**
 * The WebSocket link's retries: a repeatable frame answered `unavailable` / `rate_limited` is sent again after
 * the server's delay (and the app shows it is connecting meanwhile); any other error, or a frame that is not
 * safe to repeat, is the caller's at once.
 */
import { describe, expect, it } from 'vitest';
import { Socket } from '../../src/engine/socket.ts';
import type { WebSocketLike } from '../../src/engine/types.ts';

type Answer = (frame: { id: string; action: string }) => unknown;

/** A server that answers each frame with the next scripted answer. */
function fakeServer(answers: Answer[]) {
  const sent: { id: string; action: string }[] = [];
  let opened: (() => void) | null = null;
  const isOpen = new Promise<void>((resolve) => {
    opened = resolve;
  });
  class FakeWebSocket implements WebSocketLike {
    readyState = 0;
    onopen: WebSocketLike['onopen'] = null;
    onclose: WebSocketLike['onclose'] = null;
    onerror: WebSocketLike['onerror'] = null;
    onmessage: WebSocketLike['onmessage'] = null;
    constructor() {
      queueMicrotask(() => {
        this.readyState = 1;
        this.onopen?.({});
        opened?.();
      });
    }
    send(data: string) {
      const frame = JSON.parse(data) as { id: string; action: string };
      if (frame.action === 'presence.heartbeat') return;
      sent.push(frame);
      const answer = answers.shift();
      if (answer) queueMicrotask(() => this.onmessage?.({ data: JSON.stringify(answer(frame)) }));
    }
    close() {
      this.readyState = 3;
    }
  }
  return { sent, isOpen, FakeWebSocket };
}

const unavailable: Answer = ({ id }) => ({
  type: 'error',
  id,
  error: { code: 'unavailable', message: 'Try again', retryAfterSeconds: 1 },
});
const ack: Answer = ({ id }) => ({ type: 'ack', id, seq: 5, createdAt: '2026-01-01T00:00:00.000Z', created: true });

function socket(answers: Answer[]) {
  const server = fakeServer(answers);
  const waits: number[] = [];
  const retrying: boolean[] = [];
  const link = new Socket({
    url: 'ws://test/local',
    WebSocket: server.FakeWebSocket,
    ticket: async () => 'ticket',
    onFrame: () => undefined,
    onOpen: () => undefined,
    onState: () => undefined,
    log: () => undefined,
    retry: {
      sleep: async (ms) => {
        waits.push(ms);
      },
      onRetrying: (waiting) => retrying.push(waiting),
    },
  });
  link.start();
  return { link, server, waits, retrying };
}

const send = {
  action: 'message.send' as const,
  conversationId: '00000000-0000-4000-8000-000000000001',
  message: { clientMessageId: '00000000-0000-4000-8000-000000000002', envelopes: [] },
};

describe('Socket retries', () => {
  it('sends a message again after an unavailable error frame, waiting at least retryAfterSeconds', async () => {
    const { link, server, waits, retrying } = socket([unavailable, ack]);
    await server.isOpen;
    const answer = await link.request(send);
    expect(answer).toMatchObject({ type: 'ack', seq: 5 });
    expect(server.sent.map((f) => f.action)).toEqual(['message.send', 'message.send']);
    expect(waits[0]).toBeGreaterThanOrEqual(1000);
    expect(retrying).toEqual([true, false]);
    link.stop();
  });

  it('does not repeat a call signal, and gives other errors to the caller at once', async () => {
    const { link, server } = socket([
      unavailable,
      ({ id }) => ({ type: 'error', id, error: { code: 'forbidden', message: 'No' } }),
    ]);
    await server.isOpen;
    const signal = {
      action: 'call.signal' as const,
      conversationId: send.conversationId,
      callId: '00000000-0000-4000-8000-000000000003',
      envelopes: [],
    };
    await expect(link.request(signal)).rejects.toMatchObject({ code: 'unavailable', retryAfterSeconds: 1 });
    await expect(link.request(send)).rejects.toMatchObject({ code: 'forbidden' });
    expect(server.sent).toHaveLength(2);
    link.stop();
  });
});
