import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countMessages,
  message,
  messageInState,
  openConversation,
  register,
  send,
  startDirectChat,
  waitForMessage,
} from './support/app.ts';
import {
  type BrowserUser,
  launchChromium,
  openUser,
  screenshot,
  seriousA11yViolations,
  watch,
} from './support/browser.ts';
import { scanForPlaintext } from './support/plaintext.ts';
import { type BrowserStack, startBrowserStack } from './support/stack.ts';

let stack: BrowserStack;
let browser: Browser;
let ada: BrowserUser;
let bob: BrowserUser;
const typed: string[] = [];
const say = (text: string) => {
  typed.push(text);
  return text;
};

beforeAll(async () => {
  [stack, browser] = await Promise.all([startBrowserStack({ redisDb: 12 }), launchChromium()]);
  [ada, bob] = await Promise.all([openUser(browser, 'Ada', stack.webUrl), openUser(browser, 'Bob', stack.webUrl)]);
  await register(ada.page, { name: 'Ada Lovelace', email: 'ada@example.com' });
  await register(bob.page, { name: 'Bob Babbage', email: 'bob@example.com' });
  await startDirectChat(ada.page, 'Bob');
  await send(ada.page, say('First, while both of us are online'));
  await openConversation(bob.page, 'Ada Lovelace');
  await waitForMessage(bob.page, 'First, while both of us are online');
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Deliveries still holding ciphertext for someone (sent, not yet acknowledged by their device). */
async function pendingCiphertexts(): Promise<number> {
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const result = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM deliveries WHERE ciphertext IS NOT NULL AND acked_at IS NULL',
    );
    return result.rows[0]?.n ?? 0;
  } finally {
    await db.end();
  }
}

describe('offline and back', () => {
  it('messages sent while the recipient is offline arrive once each when it is back', async () => {
    await bob.network.goOffline();
    const texts = [say('Offline one'), say('Offline two'), say('Offline three')];
    for (const text of texts) await send(ada.page, text);
    for (const text of texts) await messageInState(ada.page, text, 'sent').waitFor();

    // Held for Bob's device as ciphertext only.
    expect(await pendingCiphertexts()).toBeGreaterThanOrEqual(texts.length);
    expect((await scanForPlaintext(stack.databaseUrl, stack.schemaName, typed)).hits).toEqual([]);

    await bob.network.goOnline();
    for (const text of texts) await waitForMessage(bob.page, text);
    for (const text of texts) expect(await countMessages(bob.page, text)).toBe(1);
    const shown = await bob.page.getByTestId('message-text').allTextContents();
    expect(shown.filter((text) => texts.includes(text))).toEqual(texts);
  });

  it('messages written while the sender is offline wait in the outbox and go out once', async () => {
    await ada.network.goOffline();
    await ada.page.getByTestId('connection-state').getByText('You are offline').waitFor();
    const texts = [say('Written on the train'), say('Still in the tunnel')];
    for (const text of texts) await send(ada.page, text);
    for (const text of texts) await messageInState(ada.page, text, 'sending').waitFor();
    await screenshot(ada.page, '20-offline-outbox');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);

    await ada.network.goOnline();
    for (const text of texts) await waitForMessage(bob.page, text);
    for (const text of texts)
      await message(ada.page, text).and(ada.page.locator(':not([data-state="sending"])')).waitFor();
    for (const text of texts) {
      expect(await countMessages(bob.page, text)).toBe(1);
      expect(await countMessages(ada.page, text)).toBe(1);
    }
    await ada.page.getByTestId('connection-state').getByText('You are offline').waitFor({ state: 'detached' });
  });

  it('a closed tab catches up when it is opened again, without duplicates', async () => {
    await bob.page.close();
    const texts = [say('While your tab was closed'), say('And one more')];
    for (const text of texts) await send(ada.page, text);
    for (const text of texts) await messageInState(ada.page, text, 'sent').waitFor();

    const page = await bob.context.newPage();
    watch(page, bob.problems);
    await page.goto(stack.webUrl);
    await page
      .getByTestId('conversation-row')
      .filter({ hasText: 'Ada Lovelace' })
      .getByTestId('unread-badge')
      .getByText(/^[2-9]/)
      .waitFor();
    await openConversation(page, 'Ada Lovelace');
    for (const text of texts) await waitForMessage(page, text);
    for (const text of [...texts, 'Offline one', 'First, while both of us are online'])
      expect(await countMessages(page, text)).toBe(1);
  });

  it('a long history scrolls back to its start', async () => {
    await openConversation(ada.page, 'Bob Babbage');
    const history = Array.from({ length: 60 }, (_, i) => say(`History line ${i + 1}`));
    for (const text of history) await send(ada.page, text);
    await messageInState(ada.page, 'History line 60', 'read').waitFor();

    // Bob's tab is the one reopened above.
    const page = bob.context.pages().at(-1);
    if (!page) throw new Error('Bob has no open tab');
    await page.reload();
    await page.getByTestId('chat-view').waitFor();
    await waitForMessage(page, 'History line 60');
    // A page of the latest items is shown; the first lines come when the reader scrolls up.
    expect(await countMessages(page, 'History line 1')).toBe(0);
    await page.getByTestId('timeline').evaluate((element) => {
      element.scrollTop = 0;
    });
    await waitForMessage(page, 'History line 1');
    for (const text of ['History line 1', 'History line 30', 'History line 60'])
      expect(await countMessages(page, text)).toBe(1);
  });

  it('no page error, console error or CSP violation on either side', () => {
    expect(ada.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });

  it('the server stored none of the plaintext typed', async () => {
    const scan = await scanForPlaintext(stack.databaseUrl, stack.schemaName, typed);
    expect(scan.columns).toEqual(expect.arrayContaining(['deliveries.ciphertext']));
    expect(scan.hits).toEqual([]);
  });
});
