import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRedisCluster } from '#adapters/redis-cluster.ts';
import { RedisConnectionRegistry } from '#adapters/redis-registry.ts';
import { connectionRegistryContract } from '../contracts/connection-registry.contract.ts';

/**
 * The registry on the cluster protocol, as on ElastiCache Serverless
 * (REDIS_CLUSTER=true): three local redis-server nodes in cluster mode, the
 * client clients.ts opens in AWS (without TLS, which ElastiCache adds).
 */
const run = promisify(execFile);

async function startCluster() {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const base = 20_000 + Math.floor(Math.random() * 20_000);
  const ports = [base, base + 1, base + 2];
  const nodes: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { cwd: dir, stdio: 'ignore' },
    ),
  );
  const stop = async () => {
    for (const node of nodes) node.kill();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (let i = 0; ; i += 1) {
        const pong = await run('redis-cli', ['-p', String(port), 'ping']).catch(() => ({ stdout: '' }));
        if (pong.stdout.trim() === 'PONG') break;
        if (i > 50) throw new Error(`redis-server on ${port} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (let i = 0; ; i += 1) {
      const info = await run('redis-cli', ['-p', String(base), 'cluster', 'info']);
      if (info.stdout.includes('cluster_state:ok')) break;
      if (i > 50) throw new Error('the cluster did not come up');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { url: `redis://127.0.0.1:${base}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

connectionRegistryContract('Redis Cluster (the ElastiCache Serverless client)', async () => {
  const cluster = await startCluster();
  const client = createRedisCluster(cluster.url);
  return {
    registry: new RedisConnectionRegistry(client),
    async tearDown() {
      client.disconnect();
      await cluster.stop();
    },
  };
});
