import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page, type WebSocketRoute } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`), never a browser downloaded by `playwright install`. */
export const chromiumPath = '/usr/bin/chromium';
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });

export const screenshotDir = fileURLToPath(new URL('../../../../test-output/screenshots/', import.meta.url));

/** One person at one browser: a context of their own (cookies, IndexedDB) and a page. */
export interface BrowserUser {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors, uncaught exceptions and CSP violations seen so far on the page. */
  readonly problems: string[];
  /** Cuts this person's network (HTTP and WebSocket, open sockets dropped) and brings it back. */
  readonly network: { goOffline(): Promise<void>; goOnline(): Promise<void> };
}

export async function openUser(
  browser: Browser,
  name: string,
  webUrl: string,
  viewport = { width: 1280, height: 800 },
): Promise<BrowserUser> {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC' });
  // Waits are for things that take a second or two; the bound is generous for a loaded CI machine (it covers a
  // socket that dropped and waits out the engine's reconnect backoff, capped at 30 s), and a missing one still
  // fails at its own step.
  context.setDefaultTimeout(60_000);
  const page = await context.newPage();
  const problems: string[] = [];
  watch(page, problems);
  const network = await controllableNetwork(context);
  await page.goto(webUrl);
  return { name, context, page, problems, network };
}

/**
 * `context.setOffline` fails new requests but leaves open WebSockets alone, so sockets go through a
 * pass-through route that can drop them and refuse new ones while "offline".
 */
async function controllableNetwork(context: BrowserContext) {
  let offline = false;
  const open = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();
  await context.routeWebSocket(/.*/, (ws) => {
    if (offline) {
      void ws.close({ code: 1001, reason: 'offline' });
      return;
    }
    const pair = { page: ws, server: ws.connectToServer() };
    open.add(pair);
  });
  return {
    async goOffline() {
      offline = true;
      await context.setOffline(true);
      for (const pair of open) {
        await pair.page.close({ code: 1001, reason: 'offline' }).catch(() => undefined);
        await pair.server.close().catch(() => undefined);
      }
      open.clear();
    },
    async goOnline() {
      offline = false;
      await context.setOffline(false);
    },
  };
}

/** Records what would otherwise pass silently: page exceptions and console errors (CSP violations among them). */
export function watch(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // A failed request the app handles itself (e.g. 401 before a refresh, a socket while offline) is not a bug.
    if (/Failed to load resource|ERR_INTERNET_DISCONNECTED|WebSocket connection/.test(text)) return;
    // The gateway's own 401s (a request racing a sign-out that revoked its session: the closing POST /auth/logout,
    // a socket's reconnect asking for a ticket) carry CORS headers in AWS (GatewayResponses) but not yet from the
    // local twin, so Chromium reports them as CORS failures. The engine handles the 401 either way.
    if (/blocked by CORS policy: No 'Access-Control-Allow-Origin' header/.test(text)) return;
    problems.push(`console: ${text}`);
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: `${screenshotDir}${name}.png`, fullPage: false });
}

const require = createRequire(import.meta.url);
let axeSource: Promise<string> | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * axe-core on the page as it is; returns the serious and critical violations. The source is evaluated through
 * the DevTools protocol rather than added as an inline <script>, which the app's CSP (rightly) refuses.
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  axeSource ??= readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  const source = await axeSource;
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: Document): Promise<{ violations: AxeViolation[] }> } })
      .axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}
