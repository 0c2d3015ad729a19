import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  message,
  messageAction,
  messageInState,
  openConversation,
  register,
  safetyDigits,
  send,
  signIn,
  signOut,
  startDirectChat,
  waitForMessage,
} from './support/app.ts';
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
const hello = say('Hello Bob, the analytical engine is ready');
const bernoulli = say('Splendid, Ada. Shall we run the Bernoulli numbers?');

beforeAll(async () => {
  [stack, browser] = await Promise.all([startBrowserStack({ redisDb: 10 }), launchChromium()]);
  [ada, bob] = await Promise.all([openUser(browser, 'Ada', stack.webUrl), openUser(browser, 'Bob', stack.webUrl)]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The password-reset link in the newest mail to `to` in the dev outbox. */
async function mailedLink(outboxDir: string, to: string): Promise<string> {
  for (const file of (await readdir(outboxDir)).sort().reverse()) {
    const mail = JSON.parse(await readFile(join(outboxDir, file), 'utf8')) as { to: string; text: string };
    const link = mail.to === to ? /https?:\/\/\S+reset-password\?token=[\w-]+/.exec(mail.text)?.[0] : undefined;
    if (link) return link;
  }
  throw new Error(`no reset mail to ${to}`);
}

describe('two people in a direct conversation', () => {
  it('register and exchange messages both ways', async () => {
    await ada.page.getByTestId('login-form').waitFor();
    await screenshot(ada.page, '01-sign-in');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await ada.page.getByRole('link', { name: 'Create an account' }).click();
    await screenshot(ada.page, '02-register');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await ada.page.goBack();

    await register(ada.page, { name: 'Ada Lovelace', email: 'ada@example.com' });
    await register(bob.page, { name: 'Bob Babbage', email: 'bob@example.com' });
    await screenshot(ada.page, '03-empty-home');

    await startDirectChat(ada.page, 'Bob');
    await send(ada.page, hello);
    await openConversation(bob.page, 'Ada Lovelace');
    await waitForMessage(bob.page, hello);
    await send(bob.page, bernoulli);
    await waitForMessage(ada.page, bernoulli);

    expect(await message(ada.page, hello).count()).toBe(1);
    expect(await message(bob.page, bernoulli).count()).toBe(1);
    await screenshot(ada.page, '04-chat');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
  });

  it('the other side sees the typing indicator, and the sender sees the read receipt', async () => {
    await ada.page.getByTestId('composer-input').fill('Are you th');
    await bob.page.getByTestId('typing-indicator').getByText('Ada Lovelace is typing…').waitFor();
    await screenshot(bob.page, '05-typing');

    await ada.page.getByTestId('composer-input').fill(say('Are you there?'));
    await ada.page.getByTestId('composer-input').press('Enter');
    await waitForMessage(bob.page, 'Are you there?');
    // Bob has the conversation open, so it is read: Ada's ticks turn to "read".
    await messageInState(ada.page, 'Are you there?', 'read').waitFor();
    await bob.page.getByTestId('typing-indicator').getByText('typing').waitFor({ state: 'detached' });
  });

  it('replies, reactions, edits and deletions reach the other side', async () => {
    await messageAction(bob.page, 'Are you there?', 'reply');
    await bob.page.getByTestId('composer-context').getByText('Replying to Ada Lovelace').waitFor();
    await send(bob.page, say('Yes, right here.'));
    await waitForMessage(ada.page, 'Yes, right here.');
    await message(ada.page, 'Yes, right here.').getByTestId('reply-quote').getByText('Are you there?').waitFor();

    await messageAction(bob.page, hello, 'react');
    await bob.page.getByRole('button', { name: 'React with 👍' }).click();
    await message(ada.page, hello).getByTestId('reaction').getByText('👍').waitFor();

    await messageAction(ada.page, 'Are you there?', 'edit');
    // The composer takes the message's text on the render after the click: typing before that would be mixed in.
    await expect.poll(() => ada.page.getByTestId('composer-input').inputValue()).toBe('Are you there?');
    await ada.page.getByTestId('composer-input').fill(say('Are you there, Bob?'));
    await ada.page.getByTestId('composer-input').press('Enter');
    await waitForMessage(bob.page, 'Are you there, Bob?');
    await message(bob.page, 'Are you there, Bob?').getByText('edited').waitFor();

    await send(ada.page, say('Oops, that was meant for Charles'));
    await waitForMessage(bob.page, 'Oops, that was meant for Charles');
    await messageAction(ada.page, 'Oops, that was meant for Charles', 'delete');
    await ada.page.getByTestId('confirm-delete').click();
    await bob.page.getByTestId('message-deleted').waitFor();
    expect(await message(bob.page, 'Oops, that was meant for Charles').count()).toBe(0);
    await screenshot(ada.page, '06-replies-reactions-edits');
    expect(await seriousA11yViolations(bob.page)).toEqual([]);
  });

  it('a reload keeps the history and the keys', async () => {
    await ada.page.reload();
    await ada.page.getByTestId('chat-view').waitFor();
    await waitForMessage(ada.page, hello);
    await waitForMessage(ada.page, bernoulli);
    expect(await message(ada.page, bernoulli).count()).toBe(1);

    await send(bob.page, say('Did the reload lose anything?'));
    await waitForMessage(ada.page, 'Did the reload lose anything?');
    await send(ada.page, say('Nothing at all, keys and history intact'));
    await waitForMessage(bob.page, 'Nothing at all, keys and history intact');
    expect(await message(ada.page, 'Did the reload lose anything?').count()).toBe(1);
  });

  it('safety numbers are the same on both sides, and verifying shows a badge', async () => {
    await ada.page.getByTestId('safety-link').click();
    await bob.page.getByTestId('safety-link').click();
    await ada.page.getByTestId('safety-digits').waitFor();
    await bob.page.getByTestId('safety-digits').waitFor();
    const [adaDigits, bobDigits] = [await safetyDigits(ada.page), await safetyDigits(bob.page)];
    expect(adaDigits).toMatch(/^\d{60}$/);
    expect(bobDigits).toBe(adaDigits);
    // The sessions of this suite are post-quantum: PQXDH with ML-KEM-1024, on both sides.
    for (const page of [ada.page, bob.page]) {
      const kinds = await page
        .getByTestId('session-kind')
        .evaluateAll((items) => items.map((i) => i.getAttribute('data-kind')));
      expect(kinds.length).toBeGreaterThan(0);
      expect(kinds.every((kind) => kind === 'pqxdh')).toBe(true);
    }
    await ada.page.getByTestId('safety-qr').waitFor();
    await screenshot(ada.page, '07-safety-number');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);

    await ada.page.getByTestId('toggle-verified').click();
    await ada.page.getByTestId('verification-state').getByText('You have verified').waitFor();
    await ada.page.getByRole('link', { name: 'Back to the conversation' }).click();
    await ada.page.getByTestId('verified-badge').waitFor();
    await bob.page.getByRole('link', { name: 'Back to the conversation' }).click();
  });

  it('search finds an old message in the decrypted history', async () => {
    await ada.page.getByTestId('search-input').fill('bernoulli');
    await ada.page.getByTestId('search-input').press('Enter');
    const hit = ada.page.getByTestId('search-hit').filter({ hasText: 'Bernoulli' });
    await hit.waitFor();
    await screenshot(ada.page, '08-search');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await hit.click();
    await waitForMessage(ada.page, bernoulli);
  });

  it('the keyboard alone gets around: shortcuts, search, conversations, sending', async () => {
    const focused = () => ada.page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent);
    await ada.page.keyboard.press('Alt+N');
    await ada.page.getByRole('heading', { name: 'New chat' }).waitFor();
    await expect.poll(focused).toBe('New chat');
    await ada.page.keyboard.press('/');
    await expect.poll(focused).toBe('search-messages');
    await ada.page.keyboard.type('analytical');
    await ada.page.keyboard.press('Enter');
    await ada.page.getByTestId('search-hit').filter({ hasText: 'analytical' }).waitFor();

    await ada.page.keyboard.press('Alt+ArrowDown');
    await ada.page.getByTestId('chat-view').waitFor();
    await expect.poll(focused).toBe('composer-input');
    await ada.page.keyboard.type(say('Typed without touching the mouse'));
    await ada.page.keyboard.press('Enter');
    await waitForMessage(bob.page, 'Typed without touching the mouse');

    await ada.page.keyboard.press('Tab');
    await ada.page.keyboard.press('?');
    const dialog = ada.page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    await screenshot(ada.page, '15-shortcuts');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await ada.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('settings, devices and details pages, and a phone-sized screen', async () => {
    await ada.page.getByTestId('user-menu').click();
    await ada.page.locator('#user-menu').getByRole('link', { name: 'Settings' }).click();
    await ada.page.getByLabel('Display name').fill('Ada King');
    await ada.page.getByRole('button', { name: 'Save name' }).click();
    await ada.page.getByText('Your name has been saved.').waitFor();
    await ada.page.locator('.sidebar__me').getByText('Ada King').waitFor();
    await screenshot(ada.page, '09-settings');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);

    await ada.page.getByTestId('user-menu').click();
    await ada.page.locator('#user-menu').getByRole('link', { name: 'Devices' }).click();
    await ada.page.getByTestId('device').getByText('This browser').waitFor();
    await screenshot(ada.page, '10-devices');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);

    await openConversation(ada.page, 'Bob Babbage');
    await ada.page.getByTestId('details-link').click();
    await ada.page.getByTestId('member-list').waitFor();
    expect(await seriousA11yViolations(ada.page)).toEqual([]);

    await ada.page.getByTestId('new-group').click();
    await ada.page.getByTestId('new-group-form').waitFor();
    expect(await seriousA11yViolations(ada.page)).toEqual([]);

    await ada.page.setViewportSize({ width: 390, height: 844 });
    await ada.page.goto(`${stack.webUrl}/#/`);
    await ada.page.getByTestId('conversation-list').waitFor();
    expect(await ada.page.getByTestId('chat-view').count()).toBe(0);
    await screenshot(ada.page, '11-phone-list');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await openConversation(ada.page, 'Bob Babbage');
    expect(await ada.page.getByTestId('conversation-list').isVisible()).toBe(false);
    await screenshot(ada.page, '12-phone-chat');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await ada.page.getByRole('link', { name: 'Back to conversations' }).click();
    await ada.page.getByTestId('conversation-list').waitFor();
    await ada.page.setViewportSize({ width: 1280, height: 800 });

    await ada.page.emulateMedia({ colorScheme: 'dark' });
    await openConversation(ada.page, 'Bob Babbage');
    await screenshot(ada.page, '16-dark-chat');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await ada.page.getByTestId('safety-link').click();
    await ada.page.getByTestId('safety-digits').waitFor();
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await ada.page.getByRole('link', { name: 'Back to the conversation' }).click();
    await ada.page.emulateMedia({ colorScheme: 'light' });
  });

  it('a contact back on a new device raises the safety-number warning', async () => {
    await signOut(bob.page);
    await signIn(bob.page, 'bob@example.com');

    await openConversation(ada.page, 'Bob Babbage');
    await send(ada.page, say('Bob, is this your new browser?'));
    await ada.page.getByTestId('identity-warning').waitFor();
    await openConversation(bob.page, 'Ada King');
    await waitForMessage(bob.page, 'Bob, is this your new browser?');
    await screenshot(ada.page, '13-identity-changed');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);

    await ada.page.getByTestId('identity-warning').getByRole('link', { name: 'Verify Bob Babbage' }).click();
    await ada.page.getByTestId('identity-changed').waitFor();
    await ada.page.getByTestId('verification-state').getByText('Not verified yet.').waitFor();
  });

  it('a second browser appears under Devices, and revoking it there ends its session', async () => {
    const laptop = await openUser(browser, 'Bob laptop', stack.webUrl);
    await signIn(laptop.page, 'bob@example.com');
    await bob.page.goto(`${stack.webUrl}/#/devices`);
    await bob.page.getByTestId('device').nth(1).waitFor();
    expect(await bob.page.getByTestId('device').count()).toBe(2);
    const other = bob.page.getByTestId('device').filter({ hasNotText: 'This browser' });
    await other.getByRole('button', { name: /^Revoke/ }).click();
    await other.getByRole('button', { name: 'Revoke', exact: true }).click();
    await bob.page.getByTestId('device').nth(1).waitFor({ state: 'detached' });
    // Its session ended with it: the next load of that browser asks for a sign-in.
    await laptop.page.reload();
    await laptop.page.getByTestId('login-form').waitFor();
    await laptop.context.close();
  });

  it('a forgotten password is reset from the mailed link, and the password changes', async () => {
    const dora = await openUser(browser, 'Dora', stack.webUrl);
    await register(dora.page, { name: 'Dora Difference', email: 'dora@example.com' });
    await signOut(dora.page);

    await dora.page.getByRole('link', { name: 'Forgot your password?' }).click();
    await dora.page.getByLabel('Work email').fill('dora@example.com');
    await dora.page.getByRole('button', { name: 'Send reset link' }).click();
    await dora.page.getByText('a reset link is on its way').waitFor();
    const link = await mailedLink(stack.stack.outboxDir, 'dora@example.com');
    await dora.page.goto(link);
    await dora.page.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
    await dora.page.getByLabel('Repeat the new password').fill('a brand new passphrase');
    await screenshot(dora.page, '14-reset-password');
    expect(await seriousA11yViolations(dora.page)).toEqual([]);
    await dora.page.getByRole('button', { name: 'Change password' }).click();
    await dora.page.getByText('Your password has been changed.').waitFor();
    await dora.page.getByRole('button', { name: 'Sign in' }).click();
    await signIn(dora.page, 'dora@example.com', 'a brand new passphrase');

    await dora.page.goto(`${stack.webUrl}/#/settings`);
    await dora.page.getByLabel('Current password').fill('a brand new passphrase');
    await dora.page.getByLabel('New password').fill('yet another passphrase');
    await dora.page.getByRole('button', { name: 'Change password' }).click();
    await dora.page.getByText('Password changed.').waitFor();
    await signOut(dora.page);
    await signIn(dora.page, 'dora@example.com', 'yet another passphrase');
    expect(dora.problems).toEqual([]);
    await dora.context.close();
  });

  it('no page error, console error or CSP violation on either side', () => {
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
