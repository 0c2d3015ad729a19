import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';

/** Opens a socket and resolves once it is open (rejects on refusal). */
export function openSocket(url: string, headers?: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
  });
}

/** Collects parsed frames; `next()` waits for the next one (or one already received). */
export function frames(socket: WebSocket) {
  const queue: unknown[] = [];
  const waiters: ((frame: unknown) => void)[] = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data));
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else queue.push(frame);
  });
  return {
    next(timeoutMs = 5000): Promise<Record<string, unknown>> {
      if (queue.length > 0) return Promise.resolve(queue.shift() as Record<string, unknown>);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no frame arrived')), timeoutMs);
        waiters.push((frame) => {
          clearTimeout(timer);
          resolve(frame as Record<string, unknown>);
        });
      });
    },
  };
}

export const closed = (socket: WebSocket) =>
  new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

export const managementClient = (endpoint: string) =>
  new ApiGatewayManagementApiClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
