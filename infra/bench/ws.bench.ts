/**
 * Round-trip latency and throughput of the local WebSocket twin, against a floor.
 *
 * Twin: client frame → route selection → `ping` fixture handler → real
 * @aws-sdk/client-apigatewaymanagementapi PostToConnection (signed HTTP request
 * to @connections) → frame back to the client. That is the path every real
 * handler answer takes.
 * Floor: a bare `ws` server that echoes the same answer straight back.
 *
 * Loopback only, fixed iteration counts; exits by itself. `npm run bench:ws`.
 */

import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { webSocketApi } from '@ciphertalk/shared/routes';
import { WebSocket, WebSocketServer } from 'ws';
import type { LambdaHandler } from '../local/gateway/lambda.ts';
import { startWebSocketGateway, type WebSocketEvent } from '../local/gateway/websocket.ts';

const sequentialCount = 2_000;
const concurrentClients = 20;
const perClient = 200;
const warmUp = 500;
const answerTimeoutMs = 5_000;

interface Run {
  readonly latenciesMs: number[];
  readonly elapsedMs: number;
}

async function main(): Promise<void> {
  const twin = await startTwin();
  const floor = await startFloor();
  try {
    const results: { name: string; twin: Run; floor: Run }[] = [];
    for (const [name, run] of [
      [`sequential: 1 client × ${sequentialCount}`, (url: string) => runClients(url, 1, sequentialCount)],
      [
        `concurrent: ${concurrentClients} clients × ${perClient}`,
        (url: string) => runClients(url, concurrentClients, perClient),
      ],
    ] as const) {
      await runClients(twin.url, 1, warmUp);
      await runClients(floor.url, 1, warmUp);
      results.push({ name, twin: await run(twin.url), floor: await run(floor.url) });
    }
    print(results);
  } finally {
    await twin.close();
    await floor.close();
  }
}

// ---- the two servers ---------------------------------------------------------------

async function startTwin() {
  let sdk: ApiGatewayManagementApiClient | undefined;
  const ping: LambdaHandler = async (event) => {
    const { requestContext, body } = event as WebSocketEvent;
    const { n } = JSON.parse(body ?? '{}') as { n?: number };
    await sdk?.send(
      new PostToConnectionCommand({
        ConnectionId: requestContext.connectionId,
        Data: JSON.stringify({ type: 'pong', n }),
      }),
    );
    return { statusCode: 200 };
  };
  const accept: LambdaHandler = async () => ({ statusCode: 200 });
  const gateway = await startWebSocketGateway({
    port: 0,
    routes: webSocketApi.routes,
    resolve: async (name) => (name === 'wsPing' ? ping : accept),
    log: () => undefined,
  });
  // A module-scope singleton in a real handler: created once per container.
  sdk = new ApiGatewayManagementApiClient({
    endpoint: gateway.managementEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    url: gateway.url,
    close: async () => {
      await gateway.close();
      sdk?.destroy();
    },
  };
}

async function startFloor() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((listening) => server.once('listening', listening));
  server.on('connection', (ws) => {
    ws.on('message', (data) => {
      const { n } = JSON.parse(data.toString()) as { n?: number };
      ws.send(JSON.stringify({ type: 'pong', n }));
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((closed) => {
        for (const client of server.clients) client.terminate();
        server.close(() => closed());
      }),
  };
}

// ---- clients ---------------------------------------------------------------------------

/** `clients` connections in parallel, each sending `count` pings one after the other. */
async function runClients(url: string, clients: number, count: number): Promise<Run> {
  const sockets = await Promise.all(Array.from({ length: clients }, () => open(url)));
  const started = performance.now();
  const latencies = await Promise.all(sockets.map((ws) => pingLoop(ws, count)));
  const elapsedMs = performance.now() - started;
  await Promise.all(sockets.map(close));
  return { latenciesMs: latencies.flat(), elapsedMs };
}

async function pingLoop(ws: WebSocket, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let n = 0; n < count; n++) {
    const sent = performance.now();
    const answer = nextMessage(ws);
    ws.send(JSON.stringify({ action: 'ping', n }));
    const { n: echoed } = JSON.parse(await answer) as { n?: number };
    if (echoed !== n) throw new Error(`expected pong ${n}, got ${echoed}`);
    latencies.push(performance.now() - sent);
  }
  return latencies;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((opened, failed) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => opened(ws));
    ws.once('error', failed);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((answered, failed) => {
    const timer = setTimeout(() => failed(new Error(`no answer within ${answerTimeoutMs} ms`)), answerTimeoutMs);
    ws.once('message', (data) => {
      clearTimeout(timer);
      answered(data.toString());
    });
  });
}

function close(ws: WebSocket): Promise<void> {
  return new Promise((closed) => {
    ws.once('close', () => closed());
    ws.close();
  });
}

// ---- report ----------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(run: Run) {
  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    perSecond: (run.latenciesMs.length / run.elapsedMs) * 1000,
  };
}

function print(results: { name: string; twin: Run; floor: Run }[]): void {
  const ms = (value: number) => value.toFixed(3).padStart(9);
  const header = `${'server'.padEnd(7)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'max ms'.padStart(9)} ${'msg/s'.padStart(9)}`;
  console.log(`WebSocket round trip, loopback, Node ${process.version}`);
  for (const { name, twin, floor } of results) {
    const t = summary(twin);
    const f = summary(floor);
    console.log(`\n${name}`);
    console.log(header);
    for (const [label, s] of [
      ['twin', t],
      ['floor', f],
    ] as const) {
      console.log(
        `${label.padEnd(7)} ${ms(s.p50)} ${ms(s.p95)} ${ms(s.p99)} ${ms(s.max)} ${s.perSecond.toFixed(0).padStart(9)}`,
      );
    }
    console.log(
      `overhead: p50 ×${(t.p50 / f.p50).toFixed(1)}, p99 ×${(t.p99 / f.p99).toFixed(1)}, throughput ÷${(f.perSecond / t.perSecond).toFixed(1)}`,
    );
  }
}

await main();
