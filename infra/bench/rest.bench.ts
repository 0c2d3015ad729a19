/**
 * Latency of the REST path through the local twin, against a floor.
 *
 * Twin: HTTP → route match → API Gateway v1 event → the real `health` handler
 * (middy chain, then one round trip each to PostgreSQL, the connection
 * registry, S3 and DynamoDB) → proxy result mapped back.
 * Floor: a bare node:http server answering the same JSON with no work.
 *
 * Services: embedded defaults, or those DATABASE_URL / REDIS_URL / S3_ENDPOINT /
 * DYNAMODB_ENDPOINT name. Loopback only, fixed counts, exits by itself.
 * `npm run bench:rest`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { startLocalStack } from '../local/stack.ts';

const warmUp = 100;
const sequential = 1_000;
const concurrency = 10;
const perWorker = 100;

async function measure(url: string, workers: number, each: number) {
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < each; i++) {
        const t0 = performance.now();
        const response = await fetch(url);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return {
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: latencies.at(-1) ?? 0,
    rps: (latencies.length / elapsed) * 1000,
  };
}

async function main() {
  const stack = await startLocalStack({
    dataDir: null,
    ports: { rest: 0, ws: 0, web: null },
    env: process.env,
  });
  const body = JSON.stringify({ status: 'ok', database: 'ok', redis: 'ok', s3: 'ok', dynamodb: 'ok' });
  const floor = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => floor.listen(0, '127.0.0.1', resolve));
  const floorUrl = `http://127.0.0.1:${(floor.address() as AddressInfo).port}/health`;
  const twinUrl = `${stack.restUrl}/health`;

  try {
    await measure(twinUrl, 1, warmUp);
    await measure(floorUrl, 1, warmUp);
    const rows: [string, Awaited<ReturnType<typeof measure>>][] = [
      [`twin GET /health, 1 × ${sequential}`, await measure(twinUrl, 1, sequential)],
      [`floor, 1 × ${sequential}`, await measure(floorUrl, 1, sequential)],
      [`twin GET /health, ${concurrency} × ${perWorker}`, await measure(twinUrl, concurrency, perWorker)],
      [`floor, ${concurrency} × ${perWorker}`, await measure(floorUrl, concurrency, perWorker)],
    ];
    const f = (n: number) => n.toFixed(2).padStart(8);
    console.log(
      `services: ${Object.entries(stack.services)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
    console.log(
      `${'run'.padEnd(36)}${'p50 ms'.padStart(8)}${'p95 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'max ms'.padStart(8)}${'req/s'.padStart(9)}`,
    );
    for (const [name, r] of rows) {
      console.log(`${name.padEnd(36)}${f(r.p50)}${f(r.p95)}${f(r.p99)}${f(r.max)}${r.rps.toFixed(0).padStart(9)}`);
    }
    const [twin, base] = [rows[0]?.[1], rows[1]?.[1]];
    if (twin && base)
      console.log(
        `sequential p95 overhead over the floor: +${(twin.p95 - base.p95).toFixed(2)} ms (target: API p95 < 100 ms)`,
      );
  } finally {
    await stack.stop();
    await new Promise<void>((resolve) => floor.close(() => resolve()));
  }
}

await main();
process.exit(0);
