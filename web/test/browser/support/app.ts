import type { Page } from 'playwright-core';

/** What a person does in the app, by its labels and test ids: the scenarios read as steps. */

export const password = 'correct horse battery staple';

export async function register(page: Page, person: { name: string; email: string }): Promise<void> {
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Full name').fill(person.name);
  await page.getByLabel('Work email').fill(person.email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  // Registering creates the device's identity, signed and one-time prekeys: the heaviest step of all.
  await signedIn(page);
}

export async function signIn(page: Page, email: string, secret = password): Promise<void> {
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await signedIn(page);
}

/** Waits for the signed-in app, or fails at once with what the form or the splash says instead. */
async function signedIn(page: Page): Promise<void> {
  const outcome = page.getByTestId('new-chat').or(page.getByTestId('form-error'));
  try {
    await outcome.first().waitFor({ timeout: 90_000 });
  } catch (error) {
    const shown = await page
      .locator('#app')
      .textContent()
      .catch(() => '(page gone)');
    throw new Error(`not signed in; the page shows: ${(shown ?? '').slice(0, 500)}`, { cause: error });
  }
  if (await page.getByTestId('form-error').isVisible())
    throw new Error(`sign-in failed: ${await page.getByTestId('form-error').textContent()}`);
}

/** Opens (or creates) the direct conversation with the person whose name starts with `name`. */
export async function startDirectChat(page: Page, name: string): Promise<void> {
  await page.getByTestId('new-chat').click();
  await page.getByTestId('user-search').fill(name);
  await page.getByTestId('user-result').filter({ hasText: name }).click();
  await page.getByTestId('chat-view').waitFor();
}

export async function createGroup(page: Page, groupName: string, members: readonly string[]): Promise<void> {
  await page.getByTestId('new-group').click();
  await page.getByTestId('group-name').fill(groupName);
  for (const member of members) {
    await page.getByTestId('user-search').fill(member);
    await page.getByTestId('user-result').filter({ hasText: member }).click();
  }
  await page.getByTestId('create-group').click();
  await page.getByTestId('chat-view').waitFor();
}

export async function openConversation(page: Page, title: string): Promise<void> {
  await page.getByTestId('conversation-row').filter({ hasText: title }).first().click();
  await page.getByTestId('chat-title').filter({ hasText: title }).waitFor();
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
}

/** The message with this exact text, in the open conversation. */
export const message = (page: Page, text: string) =>
  page.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });

export async function waitForMessage(page: Page, text: string): Promise<void> {
  await message(page, text).waitFor();
}

/** How many times a message with this text is shown (the "never twice" checks). */
export const countMessages = (page: Page, text: string) => message(page, text).count();

/** A message of the open conversation in a given sending state (`data-state` on the message). */
export const messageInState = (page: Page, text: string, state: string) =>
  message(page, text).and(page.locator(`[data-state="${state}"]`));

/** Shows a message's actions (they appear on hover or focus) and picks one. */
export async function messageAction(page: Page, text: string, action: 'reply' | 'react' | 'edit' | 'delete') {
  const target = message(page, text);
  await target.hover();
  await target.getByTestId(`action-${action}`).click();
}

/** The 60 digits of the safety number on screen. */
export async function safetyDigits(page: Page): Promise<string> {
  const text = await page.getByTestId('safety-digits').textContent();
  return (text ?? '').replace(/\D/g, '');
}

/** Signs out from the account menu (which erases this browser's keys and history). */
export async function signOut(page: Page): Promise<void> {
  await page.getByTestId('user-menu').click();
  await page.getByTestId('sign-out').click();
  await page.getByTestId('confirm-sign-out').click();
  await page.getByTestId('login-form').waitFor();
}
