import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countMessages,
  createGroup,
  openConversation,
  register,
  send,
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
let carol: BrowserUser;
let groupId = '';
const typed: string[] = [];
const say = (text: string) => {
  typed.push(text);
  return text;
};
const group = 'Engine room';

beforeAll(async () => {
  [stack, browser] = await Promise.all([startBrowserStack({ redisDb: 11 }), launchChromium()]);
  [ada, bob, carol] = (await Promise.all(
    ['Ada', 'Bob', 'Carol'].map((name) => openUser(browser, name, stack.webUrl)),
  )) as [BrowserUser, BrowserUser, BrowserUser];
  await register(ada.page, { name: 'Ada Lovelace', email: 'ada@example.com' });
  await register(bob.page, { name: 'Bob Babbage', email: 'bob@example.com' });
  await register(carol.page, { name: 'Carol Herschel', email: 'carol@example.com' });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Deliveries (of anything) owed to a user's devices in a conversation after its last member removal. */
async function deliveriesAfterRemoval(email: string): Promise<number> {
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const result = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries d JOIN users u ON u.id = d.user_id
       WHERE u.email = $1 AND d.conversation_id = $2 AND d.seq > (
         SELECT max(seq) FROM messages
         WHERE conversation_id = $2 AND type = 'system' AND payload->>'event' = 'member_removed')`,
      [email, groupId],
    );
    return result.rows[0]?.n ?? -1;
  } finally {
    await db.end();
  }
}

describe('a group of three', () => {
  it('everyone reads everyone', async () => {
    await createGroup(ada.page, group, ['Bob', 'Carol']);
    groupId = decodeURIComponent(new URL(ada.page.url()).hash.split('/')[2] ?? '');
    await send(ada.page, say('Welcome to the engine room, both of you'));
    await openConversation(bob.page, group);
    await openConversation(carol.page, group);
    await waitForMessage(bob.page, 'Welcome to the engine room, both of you');
    await waitForMessage(carol.page, 'Welcome to the engine room, both of you');

    await send(carol.page, say('Thanks Ada, glad to be here'));
    await waitForMessage(ada.page, 'Thanks Ada, glad to be here');
    await waitForMessage(bob.page, 'Thanks Ada, glad to be here');
    await send(bob.page, say('Gears are oiled'));
    await waitForMessage(ada.page, 'Gears are oiled');
    await waitForMessage(carol.page, 'Gears are oiled');
    await screenshot(bob.page, '30-group-chat');
    expect(await seriousA11yViolations(bob.page)).toEqual([]);
  });

  it('the owner makes a member admin and removes another', async () => {
    await ada.page.getByTestId('details-link').click();
    const bobRow = ada.page.getByTestId('member').filter({ hasText: 'Bob Babbage' });
    await bobRow.getByTestId('member-role').selectOption('admin');
    await ada.page.getByText('Bob Babbage is now admin.').waitFor();

    await ada.page.getByTestId('member').filter({ hasText: 'Carol Herschel' }).getByTestId('remove-member').click();
    await ada.page.getByText('Carol Herschel was removed.').waitFor();
    await ada.page.getByTestId('member').filter({ hasText: 'Carol Herschel' }).waitFor({ state: 'detached' });
    await screenshot(ada.page, '31-group-details');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
    await ada.page.getByRole('link', { name: 'Back to the conversation' }).click();
  });

  it('a removed member cannot read what is sent after', async () => {
    const secret = say('Carol must not read this one');
    await send(ada.page, secret);
    await waitForMessage(bob.page, secret);

    // The server owes Carol nothing of the group after her removal (while Bob got it: the query sees deliveries)...
    expect(await deliveriesAfterRemoval('bob@example.com')).toBeGreaterThan(0);
    expect(await deliveriesAfterRemoval('carol@example.com')).toBe(0);
    // ...and once a later message to Carol has arrived (her inbox is in order), the group's is not on her screen.
    await startDirectChat(bob.page, 'Carol');
    await send(bob.page, say('Carol, a direct word after the change'));
    await openConversation(carol.page, 'Bob Babbage');
    await waitForMessage(carol.page, 'Carol, a direct word after the change');
    const row = carol.page.getByTestId('conversation-row').filter({ hasText: group });
    if ((await row.count()) > 0) {
      await row.first().click();
      await carol.page.getByTestId('timeline').waitFor();
    }
    expect(await countMessages(carol.page, secret)).toBe(0);
    expect(await countMessages(ada.page, secret)).toBe(1);
  });

  it('an admin renames the group, the owner adds the removed member back, and a member leaves', async () => {
    await openConversation(bob.page, group);
    await bob.page.getByTestId('details-link').click();
    await bob.page.getByLabel('Group name').fill('Difference engine room');
    await bob.page.getByRole('button', { name: 'Rename' }).click();
    await bob.page.getByText('Group renamed.').waitFor();
    await ada.page.getByTestId('chat-title').getByText('Difference engine room').waitFor();

    await ada.page.getByTestId('details-link').click();
    await ada.page.getByTestId('add-members').click();
    await ada.page.getByTestId('user-search').fill('Carol');
    await ada.page.getByTestId('user-result').filter({ hasText: 'Carol' }).click();
    await ada.page.getByText('Carol Herschel was added.').waitFor();
    await ada.page.getByRole('link', { name: 'Back to the conversation' }).click();
    await send(ada.page, say('Welcome back, Carol'));
    await openConversation(carol.page, 'Difference engine room');
    await waitForMessage(carol.page, 'Welcome back, Carol');
    expect(await countMessages(carol.page, 'Carol must not read this one')).toBe(0);

    await bob.page.getByTestId('leave-group').click();
    await bob.page.getByTestId('confirm-leave').click();
    await bob.page
      .getByTestId('conversation-row')
      .filter({ hasText: 'Difference engine room' })
      .waitFor({ state: 'detached' });
    await ada.page.getByTestId('chat-subtitle').getByText('2 members').waitFor();
  });

  it('no page error, console error or CSP violation for anyone', () => {
    expect(ada.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
    expect(carol.problems).toEqual([]);
  });

  it('the server stored none of the plaintext typed, and the check finds what is there', async () => {
    const scan = await scanForPlaintext(stack.databaseUrl, stack.schemaName, typed);
    expect(scan.columns).toEqual(expect.arrayContaining(['messages.sender_key_ciphertext', 'deliveries.ciphertext']));
    expect(scan.hits).toEqual([]);

    const planted = 'planted needle 91c2';
    await plantNeedle(stack.databaseUrl, stack.schemaName, planted);
    const found = await scanForPlaintext(stack.databaseUrl, stack.schemaName, [planted]);
    expect(found.hits).toEqual(expect.arrayContaining([expect.stringContaining('messages.sender_key_ciphertext')]));
  });
});
