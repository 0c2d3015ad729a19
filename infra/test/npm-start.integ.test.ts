import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshSchema, testRedisUrl } from '@ciphertalk/functions/test/support/services.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchJson } from './support/fixtures.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

interface Running {
  readonly child: ChildProcess;
  readonly urls: { spa: string; rest: string };
  readonly output: () => string;
}

/** Runs the README's `npm start` on ephemeral ports and waits for its banner. */
async function npmStart(env: Record<string, string>): Promise<Running> {
  const child = spawn('npm', ['start'], {
    cwd: repo,
    env: { ...process.env, REST_PORT: '0', WS_PORT: '0', WEB_PORT: '0', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = child;
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  await expect.poll(() => output, { timeout: 110_000, interval: 200 }).toContain('CipherTalk is running');
  const find = (label: string) => new RegExp(`${label}\\s+(http://\\S+)`).exec(output)?.[1] ?? '';
  return { child, urls: { spa: find('SPA'), rest: find('REST API') }, output: () => output };
}

let running: ChildProcess | undefined;
afterEach(async () => {
  const child = running;
  running = undefined;
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  await exited;
});

// `npm start` builds the SPA first (vite build), which takes a while on a busy two-core machine.
describe('npm start', { timeout: 120_000 }, () => {
  it('serves /health ok and the SPA on embedded defaults, keeping data under the data dir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ciphertalk-start-'));
    const { urls, output } = await npmStart({ LOCAL_DATA_DIR: dataDir });
    expect(output()).toContain('embedded PGlite');

    const health = await fetchJson(`${urls.rest}/health`);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });

    const page = await fetch(urls.spa);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain(`connect-src 'self' ${urls.rest}`);
    expect(page.headers.get('permissions-policy')).toContain('camera=(self), microphone=(self)');
    expect(await page.text()).toContain('<div id="app">');
    const config = await fetchJson(`${urls.spa}/config.json`);
    expect(config.body).toMatchObject({
      apiUrl: urls.rest,
      wsUrl: expect.stringMatching(/^ws:\/\/localhost:\d+\/local$/),
    });
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(await (await fetch(urls.spa)).text())?.[1];
    const asset = await fetch(`${urls.spa}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${urls.spa}/..%2f..%2fpackage.json`)).status).not.toBe(500);
    expect(await (await fetch(`${urls.spa}/..%2f..%2fpackage.json`)).text()).not.toContain('workspaces');
    expect((await fetch(`${urls.spa}/%E0%A4%A`)).status).toBe(400);
    // Unknown paths fall back to the SPA, as CloudFront's error response does.
    expect(await (await fetch(`${urls.spa}/conversations/42`)).text()).toContain('<div id="app">');

    expect(existsSync(join(dataDir, 'pglite'))).toBe(true);
  });

  it('uses PostgreSQL and Redis when DATABASE_URL and REDIS_URL name them', async () => {
    const schema = await freshSchema();
    try {
      const { urls, output } = await npmStart({ DATABASE_URL: schema.url, REDIS_URL: testRedisUrl });
      expect(output()).toMatch(/database\s+postgres:\/\/postgres@127\.0\.0\.1:5432/);
      // The address the test services are on (TEST_REDIS_URL), as npm start prints it.
      expect(output()).toMatch(new RegExp(`redis\\s+redis://${new URL(testRedisUrl).host.replaceAll('.', '\\.')}`));
      expect(await fetchJson(`${urls.rest}/health`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    } finally {
      await schema.drop();
    }
  });
});
