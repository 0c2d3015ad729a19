import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Request, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGroup,
  openConversation,
  password,
  register,
  send,
  startDirectChat,
  waitForMessage,
} from './support/app.ts';
import { type BrowserUser, launchChromium, openUser, screenshot, seriousA11yViolations } from './support/browser.ts';
import { type BrowserStack, startBrowserStack } from './support/stack.ts';

/**
 * Encrypted attachments in the browser: Ada sends Bob a file and a picture through the local twin (S3 emulator
 * behind the SigV4/POST-policy verifier). Bob sees the thumbnail, downloads the file and gets the same bytes;
 * what S3 stores is ciphertext; a cancelled upload sends nothing; a non-member is refused the download.
 */
let stack: BrowserStack;
let browser: Browser;
let ada: BrowserUser;
let bob: BrowserUser;

const fileBytes = randomBytes(300 * 1024);
/** Ciphertext bodies Bob fetched from the object store. */
const downloaded: Buffer[] = [];
/** Attachment ids Bob asked the API for. */
const askedIds: string[] = [];

const isObjectStore = (url: string) => !url.startsWith(stack.stack.restUrl) && !url.startsWith(stack.webUrl);

beforeAll(async () => {
  [stack, browser] = await Promise.all([startBrowserStack({ redisDb: 13 }), launchChromium()]);
  [ada, bob] = await Promise.all([openUser(browser, 'Ada', stack.webUrl), openUser(browser, 'Bob', stack.webUrl)]);
  bob.page.on('request', (request: Request) => {
    const match = /\/attachments\/([0-9a-f-]{36})$/.exec(request.url());
    if (match?.[1] && request.method() === 'GET') askedIds.push(match[1]);
  });
  bob.page.on('response', async (response) => {
    if (response.request().method() === 'GET' && isObjectStore(response.url()) && response.ok()) {
      downloaded.push(await response.body().catch(() => Buffer.alloc(0)));
    }
  });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A picture made by the page itself (800 x 600 PNG), so the test needs no image files. */
async function makePng(user: BrowserUser): Promise<Buffer> {
  const bytes = await user.page.evaluate(async () => {
    const canvas = new OffscreenCanvas(800, 600);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no canvas');
    const gradient = context.createLinearGradient(0, 0, 800, 600);
    gradient.addColorStop(0, '#1f5fcc');
    gradient.addColorStop(1, '#f4a340');
    context.fillStyle = gradient;
    context.fillRect(0, 0, 800, 600);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return [...new Uint8Array(await blob.arrayBuffer())];
  });
  return Buffer.from(bytes);
}

/** A short WebM video (640 x 360, about a second) recorded by the page from a canvas. */
async function makeWebm(user: BrowserUser): Promise<Buffer> {
  const bytes = await user.page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no canvas');
    const stream = canvas.captureStream(25);
    const recorder = new MediaRecorder(stream, { mimeType: 'video/webm' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const stopped = new Promise((resolve) => {
      recorder.onstop = resolve;
    });
    recorder.start(100);
    for (let frame = 0; frame < 30; frame++) {
      context.fillStyle = `hsl(${frame * 12} 70% 50%)`;
      context.fillRect(0, 0, 640, 360);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    recorder.stop();
    await stopped;
    return [...new Uint8Array(await new Blob(chunks).arrayBuffer())];
  });
  return Buffer.from(bytes);
}

const attachment = (user: BrowserUser, name: string) =>
  user.page.getByTestId('attachment').filter({ has: user.page.getByTestId('attachment-name').getByText(name) });

describe('encrypted attachments between two people', () => {
  it('both register and open their direct conversation', async () => {
    await register(ada.page, { name: 'Ada Lovelace', email: 'ada@files.example' });
    await register(bob.page, { name: 'Bob Babbage', email: 'bob@files.example' });
    await startDirectChat(ada.page, 'Bob');
    await send(ada.page, 'Files coming');
    await openConversation(bob.page, 'Ada Lovelace');
    await waitForMessage(bob.page, 'Files coming');
  });

  it('a file goes up with a progress bar and comes down to the same bytes', async () => {
    // Slow the upload down so the progress bar is there to see.
    const slow = async (route: Route) => {
      if (route.request().method() !== 'POST' || !isObjectStore(route.request().url())) return route.fallback();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return route.continue();
    };
    await ada.context.route('**/*', slow);
    await ada.page.getByTestId('attach-input').setInputFiles({
      name: 'random.bin',
      mimeType: 'application/octet-stream',
      buffer: fileBytes,
    });
    const mine = attachment(ada, 'random.bin');
    await mine.getByTestId('upload-progress').waitFor();
    await screenshot(ada.page, 'attachments-01-uploading');
    await mine.getByTestId('upload-progress').waitFor({ state: 'detached' });
    await ada.context.unroute('**/*', slow);
    await expect.poll(() => ada.page.getByTestId('message').last().getAttribute('data-state')).not.toBe('sending');
    await expect(mine.getByTestId('attachment-size').textContent()).resolves.toBe('300 KB');

    const theirs = attachment(bob, 'random.bin');
    await theirs.waitFor();
    // A download held by the network shows its progress and can be cancelled, then tried again.
    let holding = true;
    const held = async (route: Route) => {
      if (route.request().method() !== 'GET' || !isObjectStore(route.request().url())) return route.fallback();
      while (holding) await new Promise((resolve) => setTimeout(resolve, 50));
      return route.abort().catch(() => undefined);
    };
    await bob.context.route('**/*', held);
    await theirs.getByTestId('attachment-download').click();
    await theirs.getByTestId('download-progress').waitFor();
    await theirs.getByTestId('cancel-download').click();
    await theirs.getByTestId('download-progress').waitFor({ state: 'detached' });
    holding = false;
    await bob.context.unroute('**/*', held);
    expect(await theirs.getByTestId('attachment-error').count()).toBe(0);
    expect(await theirs.getByTestId('attachment-save').count()).toBe(0);

    await theirs.getByTestId('attachment-download').click();
    const [download] = await Promise.all([
      bob.page.waitForEvent('download'),
      theirs.getByTestId('attachment-save').click(),
    ]);
    expect(download.suggestedFilename()).toBe('random.bin');
    const saved = await readFile((await download.path()) ?? '');
    expect(saved.equals(fileBytes)).toBe(true);

    // What the object store holds is ciphertext: version byte, header, 64 KiB chunks each with a 17-byte tag.
    const stored = downloaded.find((body) => body.length === 1 + 24 + fileBytes.length + 5 * 17);
    expect(stored, `downloaded sizes: ${downloaded.map((b) => b.length)}`).toBeDefined();
    expect(stored?.includes(fileBytes.subarray(0, 64))).toBe(false);
    expect(stored?.includes(fileBytes.subarray(100_000, 100_064))).toBe(false);
  });

  it('a picture arrives with a thumbnail and opens full size', async () => {
    const png = await makePng(ada);
    await ada.page
      .getByTestId('attach-input')
      .setInputFiles({ name: 'gradient.png', mimeType: 'image/png', buffer: png });
    const theirs = attachment(bob, 'gradient.png');
    const thumbnail = theirs.getByTestId('attachment-thumbnail');
    await thumbnail.waitFor();
    await expect
      .poll(() => thumbnail.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]))
      .toEqual([320, 240]);
    await theirs.getByTestId('attachment-download').click();
    const full = theirs.getByTestId('attachment-image');
    await full.waitFor();
    await expect
      .poll(() => full.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]))
      .toEqual([800, 600]);
    await screenshot(bob.page, 'attachments-02-picture');
    expect(await seriousA11yViolations(bob.page)).toEqual([]);
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
  });

  it('a video arrives with a thumbnail of a frame and plays', async () => {
    const webm = await makeWebm(ada);
    await ada.page
      .getByTestId('attach-input')
      .setInputFiles({ name: 'clip.webm', mimeType: 'video/webm', buffer: webm });
    const theirs = attachment(bob, 'clip.webm');
    const thumbnail = theirs.getByTestId('attachment-thumbnail');
    await thumbnail.waitFor();
    await expect
      .poll(() => thumbnail.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]))
      .toEqual([320, 180]);
    await theirs.getByTestId('attachment-download').click();
    const video = theirs.getByTestId('attachment-video');
    await video.waitFor();
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.videoWidth)).toBe(640);
  });

  it('a file altered in storage is refused, never shown or saved', async () => {
    await ada.page.getByTestId('attach-input').setInputFiles({
      name: 'tampered.bin',
      mimeType: 'application/octet-stream',
      buffer: randomBytes(100 * 1024),
    });
    const theirs = attachment(bob, 'tampered.bin');
    await theirs.getByTestId('attachment-download').waitFor();
    // Whoever holds the bucket flips one bit of the last chunk.
    const tamper = async (route: Route) => {
      if (route.request().method() !== 'GET' || !isObjectStore(route.request().url())) return route.fallback();
      const response = await route.fetch();
      const body = await response.body();
      body[body.length - 3] = (body[body.length - 3] ?? 0) ^ 1;
      return route.fulfill({ response, body });
    };
    await bob.context.route('**/*', tamper);
    await theirs.getByTestId('attachment-download').click();
    await expect(theirs.getByTestId('attachment-error').textContent()).resolves.toContain('integrity check');
    await bob.context.unroute('**/*', tamper);
    expect(await theirs.getByTestId('attachment-save').count()).toBe(0);
  });

  it('a cancelled upload sends no message', async () => {
    await screenshot(ada.page, 'attachments-05-sender');
    // Hold the upload until it is cancelled.
    const hold = async (route: Route) => {
      if (route.request().method() !== 'POST' || !isObjectStore(route.request().url())) return route.fallback();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      return route.abort().catch(() => undefined);
    };
    await ada.context.route('**/*', hold);
    await ada.page.getByTestId('attach-input').setInputFiles({
      name: 'never.bin',
      mimeType: 'application/octet-stream',
      buffer: randomBytes(200 * 1024),
    });
    const pending = attachment(ada, 'never.bin');
    await pending.getByTestId('cancel-upload').click();
    await pending.waitFor({ state: 'detached' });
    await ada.context.unroute('**/*', hold);
    await send(ada.page, 'That one was cancelled');
    await waitForMessage(bob.page, 'That one was cancelled');
    expect(await attachment(bob, 'never.bin').count()).toBe(0);
    expect(await attachment(ada, 'never.bin').count()).toBe(0);
  });

  it('a failed upload says so on the message, which can be tried again or removed', async () => {
    const refuse = (route: Route) =>
      route.request().method() === 'POST' && isObjectStore(route.request().url())
        ? route.fulfill({ status: 403, body: 'AccessDenied' })
        : route.fallback();
    await ada.context.route('**/*', refuse);
    await ada.page.getByTestId('attach-input').setInputFiles({
      name: 'refused.bin',
      mimeType: 'application/octet-stream',
      buffer: randomBytes(1024),
    });
    const failed = attachment(ada, 'refused.bin');
    await expect(failed.getByTestId('attachment-error').textContent()).resolves.toContain('refused the upload (403)');
    await ada.context.unroute('**/*', refuse);
    await failed.getByRole('button', { name: 'Remove' }).click();
    await failed.waitFor({ state: 'detached' });
    expect(await attachment(bob, 'refused.bin').count()).toBe(0);

    // Refused once, then let through: "Try again" uploads the same bytes and the message goes out.
    const retried = randomBytes(2048);
    await ada.context.route('**/*', refuse);
    await ada.page.getByTestId('attach-input').setInputFiles({
      name: 'retried.bin',
      mimeType: 'application/octet-stream',
      buffer: retried,
    });
    const again = attachment(ada, 'retried.bin');
    await again.getByTestId('attachment-error').waitFor();
    await ada.context.unroute('**/*', refuse);
    await again.getByTestId('attachment-retry').click();
    await again.getByTestId('attachment-error').waitFor({ state: 'detached' });
    const arrived = attachment(bob, 'retried.bin');
    await arrived.getByTestId('attachment-download').click();
    const [download] = await Promise.all([
      bob.page.waitForEvent('download'),
      arrived.getByTestId('attachment-save').click(),
    ]);
    expect((await readFile((await download.path()) ?? '')).equals(retried)).toBe(true);
    expect(await attachment(bob, 'retried.bin').count()).toBe(1);
  });

  it('a file over the limit is refused before any upload', async () => {
    let posted = 0;
    const count = (request: Request) => {
      if (request.method() === 'POST' && /\/attachments$/.test(request.url())) posted++;
    };
    ada.page.on('request', count);
    // The limit is checked on File.size: a sparse 101 MiB file on disk, handed over by path.
    const huge = join(await mkdtemp(join(tmpdir(), 'ciphertalk-')), 'huge.bin');
    await writeFile(huge, '');
    await truncate(huge, 101 * 1024 * 1024);
    await ada.page.getByTestId('attach-input').setInputFiles(huge);
    await expect(ada.page.getByRole('alert').filter({ hasText: 'huge.bin' }).textContent()).resolves.toContain(
      'at most',
    );
    ada.page.off('request', count);
    expect(posted).toBe(0);
    expect(await attachment(ada, 'huge.bin').count()).toBe(0);
  });

  it('someone outside the conversation is refused the download', async () => {
    expect(askedIds.length).toBeGreaterThan(0);
    const registered = await fetch(`${stack.stack.restUrl}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: stack.webUrl },
      body: JSON.stringify({ email: 'eve@files.example', password, displayName: 'Eve' }),
    });
    expect(registered.status).toBe(201);
    const { accessToken } = (await registered.json()) as { accessToken: string };
    const asked = await fetch(`${stack.stack.restUrl}/attachments/${askedIds[0]}`, {
      headers: { authorization: `Bearer ${accessToken}`, origin: stack.webUrl },
    });
    expect(asked.status).toBe(404);
  });

  it("a person's picture reaches the people they talk to, encrypted", async () => {
    const png = await makePng(ada);
    await ada.page.evaluate(() => {
      location.hash = '#/settings';
    });
    await ada.page.getByTestId('avatar-input').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
    await ada.page.getByTestId('avatar-picker').getByTestId('avatar-image').waitFor();
    await screenshot(ada.page, 'attachments-04-settings');
    const row = bob.page.getByTestId('conversation-row').filter({ hasText: 'Ada Lovelace' });
    const picture = row.getByTestId('avatar-image');
    await picture.waitFor();
    // Scaled in the browser to 256 px before it was encrypted.
    await expect
      .poll(() => picture.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]))
      .toEqual([256, 192]);
  });

  it("a group's picture, set by its owner, reaches its members", async () => {
    await ada.page.evaluate(() => {
      location.hash = '#/';
    });
    await createGroup(ada.page, 'Analytical Engines', ['Bob']);
    await ada.page.getByTestId('details-link').click();
    await ada.page.getByTestId('avatar-input').setInputFiles({
      name: 'group.png',
      mimeType: 'image/png',
      buffer: await makePng(ada),
    });
    const row = bob.page.getByTestId('conversation-row').filter({ hasText: 'Analytical Engines' });
    await row.getByTestId('avatar-image').waitFor();
    await screenshot(bob.page, 'attachments-03-avatars');
    expect(await seriousA11yViolations(ada.page)).toEqual([]);
  });

  it('nothing went wrong on either page (CSP included)', () => {
    expect(ada.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });
});
