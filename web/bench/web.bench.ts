/**
 * `npm run bench:web`: what the browser pays before the first paint, against the budgets of the web client issue.
 *
 * Size: the initial JavaScript and CSS (the entry chunk of the Vite manifest and everything it imports
 * statically), gzipped as a CDN would send them. The crypto core (libsodium) is a dynamic import, loaded after
 * the first paint, and is reported apart.
 * Time: first-contentful-paint in Debian's Chromium over cold loads (a fresh browser context each: empty cache)
 * of the SPA served by the local twin's web server, with the API on the same stack; also the app's own
 * `ciphertalk:interactive` mark (rendered after reading /config.json, the sign-in form up) and the load event. Floor: FCP of a static one-line HTML page
 * from the same server in the same run. Loopback, fixed counts, exits by itself.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { startLocalStack } from '@ciphertalk/infra/local/stack.ts';
import { type Browser, chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../test/browser/support/browser.ts';

const loads = 15;
const budgets = { initialJsGzipKb: 150, fcpMs: 1000 };
const webDir = fileURLToPath(new URL('../', import.meta.url));
const distDir = join(webDir, 'dist');

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

async function initialAssets() {
  const manifest = JSON.parse(await readFile(join(distDir, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const entry = Object.entries(manifest).find(([, chunk]) => chunk.isEntry);
  if (!entry) throw new Error('no entry chunk in the Vite manifest');
  const js = new Set<string>();
  const css = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || js.has(chunk.file)) return;
    js.add(chunk.file);
    for (const file of chunk.css ?? []) css.add(file);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  visit(entry[0]);
  const lazy = Object.values(manifest)
    .filter((chunk) => chunk.isDynamicEntry)
    .map((chunk) => chunk.file);
  const gz = async (files: Iterable<string>) => {
    let total = 0;
    for (const file of files) total += gzipSync(await readFile(join(distDir, file))).length;
    return total;
  };
  return { js: [...js], css: [...css], jsGz: await gz(js), cssGz: await gz(css), lazy, lazyGz: await gz(lazy) };
}

async function measure(browser: Browser, url: string, waitForApp: boolean) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load' });
    const fcp = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          new PerformanceObserver((list) => {
            for (const entry of list.getEntries())
              if (entry.name === 'first-contentful-paint') resolve(entry.startTime);
          }).observe({ type: 'paint', buffered: true });
        }),
    );
    const load = await page.evaluate(
      () =>
        (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.loadEventEnd ?? 0,
    );
    let app = 0;
    if (waitForApp) {
      await page.waitForSelector('[data-testid="login-form"]');
      app = await page.evaluate(() => performance.getEntriesByName('ciphertalk:interactive')[0]?.startTime ?? -1);
    }
    return { fcp, load, app };
  } finally {
    await context.close();
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function main() {
  process.stdout.write('building web/dist (vite build)…\n');
  await promisify(execFile)('npx', ['vite', 'build', '--logLevel', 'warn'], {
    cwd: webDir,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const size = await initialAssets();

  // The SPA plus the floor page, served by the twin's own web server (same headers, same CSP).
  const root = await mkdtemp(join(tmpdir(), 'ciphertalk-bench-web-'));
  await cp(distDir, root, { recursive: true });
  await writeFile(
    join(root, 'floor.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>floor</title></head><body><p>floor</p></body></html>',
  );
  const webPort = await freePort();
  const stack = await startLocalStack({
    dataDir: null,
    ports: { rest: 0, ws: 0, web: webPort },
    webRoot: root,
    env: process.env,
  });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  try {
    const webUrl = stack.webUrl ?? `http://localhost:${webPort}`;
    // One warm-up of each, not counted (the browser process itself starting up).
    await measure(browser, webUrl, true);
    await measure(browser, `${webUrl}/floor.html`, false);
    const app: { fcp: number; load: number; app: number }[] = [];
    const floor: number[] = [];
    for (let i = 0; i < loads; i++) {
      app.push(await measure(browser, webUrl, true));
      floor.push((await measure(browser, `${webUrl}/floor.html`, false)).fcp);
    }
    const fcp = app.map((r) => r.fcp);
    const interactive = app.map((r) => r.app);
    const loadEvent = app.map((r) => r.load);
    const kb = (bytes: number) => (bytes / 1024).toFixed(1);
    const ms = (value: number) => `${value.toFixed(0)} ms`;
    const verdict = (ok: boolean) => (ok ? 'within budget' : 'OVER BUDGET');
    const lines = [
      '',
      'CipherTalk web client: initial load',
      '',
      `initial JS   ${kb(size.jsGz).padStart(7)} KB gzipped  (${size.js.join(', ')})   budget ${budgets.initialJsGzipKb} KB: ${verdict(size.jsGz / 1024 <= budgets.initialJsGzipKb)}`,
      `initial CSS  ${kb(size.cssGz).padStart(7)} KB gzipped  (${size.css.join(', ')})`,
      `lazy chunks  ${kb(size.lazyGz).padStart(7)} KB gzipped  (${size.lazy.join(', ')}; loaded after first paint)`,
      '',
      `cold loads in Chromium (${loads} each, fresh context, ${stack.webUrl})`,
      '                         p50        p95',
      `FCP, the SPA       ${ms(percentile(fcp, 50)).padStart(9)}  ${ms(percentile(fcp, 95)).padStart(9)}   budget < ${budgets.fcpMs} ms: ${verdict(percentile(fcp, 95) < budgets.fcpMs)}`,
      `FCP, floor page    ${ms(percentile(floor, 50)).padStart(9)}  ${ms(percentile(floor, 95)).padStart(9)}   (static one-line HTML, same server)`,
      `interactive        ${ms(percentile(interactive, 50)).padStart(9)}  ${ms(percentile(interactive, 95)).padStart(9)}   (the app's mark after its first render: /config.json read, sign-in form up)`,
      `load event         ${ms(percentile(loadEvent, 50)).padStart(9)}  ${ms(percentile(loadEvent, 95)).padStart(9)}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    await browser.close();
    await stack.stop();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
