import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConversation, register, send, startDirectChat, waitForMessage } from './support/app.ts';
import { type BrowserUser, launchChromium, openUser, screenshot, seriousA11yViolations } from './support/browser.ts';
import { plantNeedle, scanForPlaintext } from './support/plaintext.ts';
import { type BrowserStack, startBrowserStack } from './support/stack.ts';

let stack: BrowserStack;
let browser: Browser;
let ada: BrowserUser;
let bob: BrowserUser;
/** Every message text typed in this file: none may reach the server in the clear. */
const typed: string[] = [];
const say = (text: string) => {
  typed.push(text);
  return text;
};

beforeAll(async () => {
  [stack, browser] = await Promise.all([startBrowserStack({ redisDb: 10 }), launchChromium()]);
  [ada, bob] = await Promise.all([openUser(browser, 'Ada', stack.webUrl), openUser(browser, 'Bob', stack.webUrl)]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('direct messages', () => {
  it('two people register and exchange messages both ways', async () => {
    await screenshot(ada.page, 'login');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await register(ada.page, { name: 'Ada Lovelace', email: 'ada@example.com' });
    await register(bob.page, { name: 'Bob Babbage', email: 'bob@example.com' });

    await startDirectChat(ada.page, 'Bob');
    await send(ada.page, say('Hello Bob, the analytical engine is ready'));
    await openConversation(bob.page, 'Ada Lovelace');
    await waitForMessage(bob.page, 'Hello Bob, the analytical engine is ready');
    await send(bob.page, say('Splendid, Ada. Shall we run the Bernoulli numbers?'));
    await waitForMessage(ada.page, 'Splendid, Ada. Shall we run the Bernoulli numbers?');

    await screenshot(ada.page, 'chat-desktop');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    expect(ada.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });

  it('the server stored none of the plaintext typed, and the check finds what is there', async () => {
    const scan = await scanForPlaintext(stack.databaseUrl, stack.schemaName, typed);
    expect(scan.columns).toEqual(expect.arrayContaining(['messages.sender_key_ciphertext', 'deliveries.ciphertext']));
    expect(scan.hits).toEqual([]);

    const planted = 'planted needle 7f3a';
    await plantNeedle(stack.databaseUrl, stack.schemaName, planted);
    const found = await scanForPlaintext(stack.databaseUrl, stack.schemaName, [planted]);
    expect(found.hits).toEqual(
      expect.arrayContaining([
        expect.stringContaining('messages.sender_key_ciphertext'),
        expect.stringContaining('s3://'),
      ]),
    );
  });
});
