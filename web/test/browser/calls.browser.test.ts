import { type Browser, chromium, type Page, type WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConversation, register, send, startDirectChat, waitForMessage } from './support/app.ts';
import {
  type BrowserUser,
  chromiumArgs,
  chromiumPath,
  screenshot,
  seriousA11yViolations,
  watch,
} from './support/browser.ts';
import { type BrowserStack, startBrowserStack } from './support/stack.ts';

/**
 * Calls between two Chromium instances (separate processes, as two people at two computers) through the local
 * twin: fake camera and microphone, host candidates on this machine's address (no mDNS names, no STUN/TURN).
 * A third person, online and sharing a conversation with the caller but not this one, records every frame
 * their socket receives: nothing of the call may reach it.
 */

/** Short, so the missed-call scenario does not wait 45 s; long enough for an answer on a loaded machine. */
const RING_SECONDS = 12;

const callArgs = [
  ...chromiumArgs,
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  // Host candidates as plain addresses: the two browsers cannot resolve each other's mDNS names here.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
  // getDisplayMedia without a picker.
  '--auto-select-desktop-capture-source=Entire screen',
];

interface Frames {
  received: string[];
  sent: string[];
}

let stack: BrowserStack;
let browserA: Browser;
let browserB: Browser;
let ada: BrowserUser;
let bob: BrowserUser;
let carol: BrowserUser;
const frames = new Map<string, Frames>();

/** A person with camera and microphone allowed, the ring timeout shortened, and their socket frames recorded. */
async function openCaller(browser: Browser, name: string): Promise<BrowserUser> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(60_000);
  await context.grantPermissions(['camera', 'microphone'], { origin: stack.webUrl });
  await context.route('**/config.json', async (route) => {
    const response = await route.fetch();
    const config = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: { ...config, callRingTimeoutSeconds: RING_SECONDS } });
  });
  const page = await context.newPage();
  const problems: string[] = [];
  watch(page, problems);
  const recorded: Frames = { received: [], sent: [] };
  frames.set(name, recorded);
  page.on('websocket', (ws: WebSocket) => {
    ws.on('framereceived', (frame) => recorded.received.push(String(frame.payload)));
    ws.on('framesent', (frame) => recorded.sent.push(String(frame.payload)));
  });
  await page.goto(stack.webUrl);
  const network = {
    goOffline: () => context.setOffline(true),
    goOnline: () => context.setOffline(false),
  };
  return { name, context, page, problems, network };
}

const framesOf = (user: BrowserUser) => frames.get(user.name) as Frames;
const typeOf = (raw: string) => {
  try {
    return (JSON.parse(raw) as { type?: string; action?: string }).type ?? null;
  } catch {
    return null;
  }
};
const actionOf = (raw: string) => {
  try {
    return (JSON.parse(raw) as { action?: string }).action ?? null;
  } catch {
    return null;
  }
};

/** Total inbound RTP bytes (audio + video) as the call screen reports them from `getStats()`. */
async function inboundBytes(page: Page, kind: 'all' | 'video' = 'all'): Promise<number> {
  const quality = page.getByTestId('call-quality');
  await quality.waitFor();
  const value = await quality.getAttribute(kind === 'video' ? 'data-inbound-video-bytes' : 'data-inbound-bytes');
  return Number(value ?? 0);
}

async function expectMediaFlowing(page: Page): Promise<void> {
  const first = await inboundBytes(page);
  await expect.poll(() => inboundBytes(page), { timeout: 20_000, interval: 500 }).toBeGreaterThan(first);
  await expect.poll(() => inboundBytes(page, 'video'), { timeout: 20_000, interval: 500 }).toBeGreaterThan(0);
}

const callState = (page: Page) => page.getByTestId('call-status').getAttribute('data-state');

/** The newest call event in the open conversation. */
const lastCallEvent = (page: Page) => page.getByTestId('call-event').last();

/** Nothing of any call reached the third person's socket. */
function expectCarolSawNoCall(): void {
  const received = framesOf(carol).received;
  expect(received.length).toBeGreaterThan(0);
  expect(received.filter((raw) => typeOf(raw) === 'call.signal')).toEqual([]);
  expect(received.filter((raw) => raw.includes('callId'))).toEqual([]);
}

beforeAll(async () => {
  [stack, browserA, browserB] = await Promise.all([
    startBrowserStack({ redisDb: 15 }),
    chromium.launch({ executablePath: chromiumPath, args: callArgs }),
    chromium.launch({ executablePath: chromiumPath, args: callArgs }),
  ]);
  [ada, bob, carol] = await Promise.all([
    openCaller(browserA, 'Ada'),
    openCaller(browserB, 'Bob'),
    openCaller(browserA, 'Carol'),
  ]);
});

afterAll(async () => {
  await browserA?.close();
  await browserB?.close();
  await stack?.stop();
});

describe('one-to-one calls', () => {
  it('a video call connects, media flows both ways, and either side hangs up', async () => {
    await register(ada.page, { name: 'Ada Lovelace', email: 'ada@example.com' });
    await register(bob.page, { name: 'Bob Babbage', email: 'bob@example.com' });
    await register(carol.page, { name: 'Carol Herschel', email: 'carol@example.com' });
    // Carol shares a conversation with Ada (so she is someone Ada's activity could leak to), not Bob's.
    await startDirectChat(ada.page, 'Carol');
    await send(ada.page, 'Carol, I am about to call Bob');
    await openConversation(carol.page, 'Ada Lovelace');
    await waitForMessage(carol.page, 'Carol, I am about to call Bob');
    await startDirectChat(ada.page, 'Bob');
    await send(ada.page, 'Bob, calling you now');
    await openConversation(bob.page, 'Ada Lovelace');
    await waitForMessage(bob.page, 'Bob, calling you now');
    const carolBefore = framesOf(carol).received.length;

    await ada.page.getByTestId('call-video').click();
    await expect.poll(() => callState(ada.page)).toBe('outgoing');
    const ringing = bob.page.getByTestId('incoming-call');
    await ringing.waitFor();
    expect(await bob.page.getByTestId('incoming-call-kind').textContent()).toContain('Video call');
    expect(await bob.page.getByTestId('call-trust').textContent()).toContain('End-to-end encrypted');
    await expect.poll(() => ada.page.getByTestId('call-status').textContent()).toBe('Ringing…');
    await screenshot(bob.page, 'calls-01-incoming');
    expect(await seriousA11yViolations(bob.page)).toEqual([]);
    await bob.page.getByTestId('call-accept-video').click();

    await expect.poll(() => callState(ada.page), { timeout: 30_000 }).toBe('connected');
    await expect.poll(() => callState(bob.page), { timeout: 30_000 }).toBe('connected');
    await expectMediaFlowing(ada.page);
    await expectMediaFlowing(bob.page);
    await screenshot(ada.page, 'calls-02-connected');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);

    // Controls: mute and camera off are local; screen sharing swaps the video track (no renegotiation).
    await ada.page.getByTestId('call-mute').click();
    expect(await ada.page.getByTestId('call-mute').getAttribute('aria-pressed')).toBe('true');
    await ada.page.getByTestId('call-share').click();
    await expect.poll(() => ada.page.getByTestId('call-share').getAttribute('aria-pressed')).toBe('true');
    await expectMediaFlowing(bob.page);
    await ada.page.getByTestId('call-share').click();
    await expect.poll(() => ada.page.getByTestId('call-share').getAttribute('aria-pressed')).toBe('false');

    await bob.page.getByTestId('call-hangup').click();
    await ada.page.getByTestId('call-screen').waitFor({ state: 'detached' });
    await bob.page.getByTestId('call-screen').waitFor({ state: 'detached' });

    // The caller writes the call event; both timelines show it.
    for (const page of [ada.page, bob.page]) {
      await lastCallEvent(page).waitFor();
      expect(await lastCallEvent(page).getAttribute('data-outcome')).toBe('completed');
      expect(await lastCallEvent(page).textContent()).toMatch(/Video call · \d+:\d\d/);
    }
    await screenshot(bob.page, 'calls-03-event');

    // The SDP, and the DTLS fingerprints in it, never left the browsers in the clear.
    const sentByAda = framesOf(ada).sent.filter((raw) => actionOf(raw) === 'call.signal');
    expect(sentByAda.length).toBeGreaterThan(0);
    for (const raw of [...framesOf(ada).sent, ...framesOf(bob).sent, ...framesOf(bob).received]) {
      expect(raw).not.toContain('a=fingerprint');
      expect(raw).not.toContain('candidate:');
    }
    expect(framesOf(bob).received.filter((raw) => typeOf(raw) === 'call.signal').length).toBeGreaterThan(0);
    // Carol's socket was live all along: a message from Ada after the call reaches it; nothing of the call did.
    await openConversation(ada.page, 'Carol Herschel');
    await send(ada.page, 'Carol, the call is over');
    await waitForMessage(carol.page, 'Carol, the call is over');
    expect(
      framesOf(carol)
        .received.slice(carolBefore)
        .filter((raw) => typeOf(raw) === 'entry').length,
    ).toBeGreaterThan(0);
    expectCarolSawNoCall();
    await openConversation(ada.page, 'Bob Babbage');
    expect([...ada.problems, ...bob.problems, ...carol.problems]).toEqual([]);
  });

  it('a declined voice call ends on both sides and leaves a "declined" event', async () => {
    await bob.page.getByTestId('call-voice').click();
    await ada.page.getByTestId('incoming-call').waitFor();
    expect(await ada.page.getByTestId('incoming-call-kind').textContent()).toContain('Voice call');
    await ada.page.getByTestId('call-decline').click();
    await ada.page.getByTestId('incoming-call').waitFor({ state: 'detached' });
    await expect.poll(() => bob.page.getByTestId('call-status').textContent()).toBe('Declined');
    await bob.page.getByTestId('call-screen').waitFor({ state: 'detached' });
    for (const page of [ada.page, bob.page]) {
      await expect.poll(() => lastCallEvent(page).getAttribute('data-outcome')).toBe('declined');
      expect(await lastCallEvent(page).textContent()).toContain('Voice call · Declined');
    }
    expectCarolSawNoCall();
  });

  it('an unanswered call stops ringing after the timeout and shows as missed', async () => {
    await ada.page.getByTestId('call-voice').click();
    await bob.page.getByTestId('incoming-call').waitFor();
    // Nobody answers: the caller gives up after RING_SECONDS and tells the callee's devices.
    await expect
      .poll(() => ada.page.getByTestId('call-status').textContent(), { timeout: (RING_SECONDS + 10) * 1000 })
      .toBe('No answer');
    await bob.page.getByTestId('incoming-call').waitFor({ state: 'detached', timeout: 10_000 });
    await expect.poll(() => lastCallEvent(bob.page).textContent()).toContain('Missed voice call');
    await expect.poll(() => lastCallEvent(ada.page).textContent()).toContain('Voice call · No answer');
    expect(await lastCallEvent(bob.page).getAttribute('data-outcome')).toBe('missed');
    await screenshot(bob.page, 'calls-04-missed');
    expectCarolSawNoCall();
    expect([...ada.problems, ...bob.problems, ...carol.problems]).toEqual([]);
  });
});
